// The thread that runs one pipeline: opens its store, runs replication
// sessions, and reconnects with capped exponential backoff after transient
// failures. libpq, poll and fsync all block, so this runs on a thread of its
// own, never on Swift's cooperative pool.

import EventStore
import Foundation
import PostgresReplication
import PostgresWire
import Synchronization

/// How a pipeline run ended.
public enum PipelineOutcome: Sendable, Equatable {
    /// Stopped on request, after a final status update.
    case stopped
    /// Everything up to the configured end position is durable.
    case reachedEnd
    case failed(PipelineError)
}

/// Runs one pipeline on a dedicated thread.
public final class PipelineWorker: Sendable {
    public let config: PipelineConfig
    public let progress = PipelineProgress()
    private let wake = WakeSignal()
    private let stopRequested = Atomic<Bool>(false)
    private let onDurable: @Sendable (Int64) -> Void

    /// - Parameter onDurable: called on the worker thread after each group
    ///   commit with the store's highest sequence number.
    public init(config: PipelineConfig, onDurable: @escaping @Sendable (Int64) -> Void = { _ in }) {
        self.config = config
        self.onDurable = onDurable
    }

    /// Asks the worker to stop; it finishes the current step, sends a final
    /// status update and returns. Safe to call from any thread, repeatedly.
    public func requestStop() {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
    }

    private var shouldStop: Bool { stopRequested.load(ordering: .sequentiallyConsistent) }

    /// Starts the worker thread; `completion` runs on it when the run ends.
    public func start(completion: @escaping @Sendable (PipelineOutcome) -> Void) {
        let thread = Thread { [self] in completion(run()) }
        thread.name = "popsink-pipeline-\(config.id)"
        thread.start()
    }

    /// Runs the pipeline on the calling thread until it stops, reaches its end or fails.
    public func run() -> PipelineOutcome {
        progress.update { $0.state = .starting }
        let store: EventStoreWriter
        do {
            store = try EventStoreWriter(path: config.storePath, durability: config.durableFsync ? .full : .normal)
        } catch {
            return fail(
                PipelineError(
                    .store, "cannot open the event store: \(error)",
                    remediation: "Check that the data directory is writable and not used by another popsink-pg process."
                ))
        }
        defer { store.close() }
        if let checkpoint = store.checkpoint {
            progress.update { $0.flushedLSN = checkpoint.flushLSN }
        }

        // Between groups, on this thread: see RetentionRunner+Pacing.
        let retention = RetentionRunner(writer: store, policy: config.retention)

        var attempt = 0
        var endLSN: LSN?
        while !shouldStop {
            let session = ReplicationSession(
                config: config, store: store, progress: progress, wake: wake, endLSN: endLSN,
                shouldStop: { [unowned self] in shouldStop },
                onDurable: { [onDurable] in
                    onDurable($0)
                    retention.stepIfDue()
                },
                onIdle: { retention.stepIfDue() })
            do {
                let lease = try config.connectionBudget?.reserve(
                    SourceConnectionBudget.sessionConnections, for: config.id,
                    purpose: "its replication, catalog and load connections")
                defer { lease?.release() }
                let end = try session.run()
                progress.update { $0.state = end == .reachedEnd ? .finished : .stopped }
                return end == .reachedEnd ? .reachedEnd : .stopped
            } catch {
                endLSN = session.resolvedEndLSN
                store.rollbackGroup()
                let failure = Self.pipelineError(error)
                guard failure.isRetryable else { return fail(failure) }
                attempt += 1
                let delay = config.retry.delay(attempt: attempt)
                progress.update {
                    $0.state = .retrying
                    $0.lastError = failure
                    $0.retryAttempt = attempt
                }
                // Sleep, but wake at once on a stop request.
                let deadline = ContinuousClock.now + delay
                while !shouldStop, ContinuousClock.now < deadline {
                    var descriptor = pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0)
                    _ = poll(&descriptor, 1, 50)
                }
            }
        }
        progress.update { $0.state = .stopped }
        return .stopped
    }

    private func fail(_ error: PipelineError) -> PipelineOutcome {
        progress.update {
            $0.state = .failed
            $0.lastError = error
        }
        return .failed(error)
    }

    static func pipelineError(_ error: any Error) -> PipelineError {
        switch error {
        case let error as PipelineError: error
        case let error as PostgresError where ServerConnectionLimit.isRefusal(error):
            ServerConnectionLimit.pipelineError(error)
        case let error as PostgresError: PipelineError(error)
        case let error as EventStoreError: StoreFailure.pipelineError(error)
        case let error as ReplicationFrameError: PipelineError(.protocolViolation, "\(error)", retryable: true)
        default: PipelineError(.protocolViolation, "\(error)")
        }
    }
}
