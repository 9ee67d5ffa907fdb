// The pipeline actor: owns one pipeline's lifecycle and its worker thread.
// Commands (start, stop) are safe to call repeatedly and concurrently; the
// worker publishes progress through `PipelineProgress`, read without waiting
// on the actor.

import PostgresWire
import Synchronization

/// One pipeline, driven from async code; its replication runs on its own thread.
public actor Pipeline {
    public nonisolated let config: PipelineConfig
    private let onDurable: @Sendable (Int64) -> Void
    private var worker: PipelineWorker?
    private var outcome: PipelineOutcome?
    private var waiters: [CheckedContinuation<PipelineOutcome, Never>] = []
    /// Progress of the current (or last) run.
    public nonisolated let progress: PipelineProgressBox = PipelineProgressBox()

    public init(config: PipelineConfig, onDurable: @escaping @Sendable (Int64) -> Void = { _ in }) {
        self.config = config
        self.onDurable = onDurable
    }

    /// Starts the worker unless it is already running.
    public func start() {
        guard worker == nil else { return }
        let worker = PipelineWorker(config: config, onDurable: onDurable)
        self.worker = worker
        progress.current = worker.progress
        outcome = nil
        worker.start { [weak self] outcome in
            Task { await self?.finished(worker, outcome) }
        }
    }

    /// Asks the worker to stop and waits for it; returns at once when idle.
    @discardableResult
    public func stop() async -> PipelineOutcome? {
        guard let worker else { return outcome }
        worker.requestStop()
        return await waitUntilFinished()
    }

    /// Waits for the current run to end (stop, end position, or failure).
    public func waitUntilFinished() async -> PipelineOutcome {
        if worker == nil, let outcome { return outcome }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// True while a worker runs (a backfill request stored now is taken at its next poll).
    public var isRunning: Bool { worker != nil }

    public nonisolated var status: PipelineStatus { progress.current?.status ?? PipelineStatus() }

    private func finished(_ finishedWorker: PipelineWorker, _ outcome: PipelineOutcome) {
        guard worker === finishedWorker else { return }
        worker = nil
        self.outcome = outcome
        let waiting = waiters
        waiters = []
        waiting.forEach { $0.resume(returning: outcome) }
    }
}

/// The progress object of the pipeline's current run, swappable across runs.
public final class PipelineProgressBox: Sendable {
    private let box = Mutex<PipelineProgress?>(nil)
    public init() {}
    public var current: PipelineProgress? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}
