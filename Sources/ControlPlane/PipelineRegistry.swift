// Owns the running pipelines of a service: one `Pipeline` actor per stored
// pipeline, started and stopped on command, and restarted on boot when the
// stored desired state says it was running (so a crash or restart of the
// service resumes from each pipeline's checkpoint).

import CDC
import Foundation
import PostgresReplication
import Synchronization

/// The pipelines of one service and their lifecycle.
public actor PipelineRegistry {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownPipeline(String)
        case unknownSource(String)
        case invalid(String)

        public var description: String {
            switch self {
            case .unknownPipeline(let id): "no pipeline with id \(id)"
            case .unknownSource(let id): "no source with id \(id)"
            case .invalid(let message): message
            }
        }
    }

    private let store: any StateStore
    private let dataDirectory: DataDirectory
    /// The running pipelines. Only the actor changes the map, so commands stay
    /// serialized; the lock lets `status` read it from any thread without
    /// waiting behind a start or stop in progress.
    private let live = Mutex<[String: Pipeline]>([:])
    private var running: [String: Pipeline] {
        get { live.withLock { $0 } }
        set { live.withLock { $0 = newValue } }
    }

    public init(store: any StateStore, dataDirectory: DataDirectory) {
        self.store = store
        self.dataDirectory = dataDirectory
    }

    /// Starts every pipeline whose desired state is `running`.
    public func resume() async throws {
        for record in try await store.pipelines() where record.desiredState == .running {
            try await launch(record)
        }
    }

    /// Starts a pipeline (no-op when it runs) and records that it should run.
    @discardableResult
    public func start(_ id: String) async throws -> PipelineStatus {
        try await launch(try await record(id, desiredState: .running))
        return status(id)
    }

    /// Stops a pipeline with a final status update and records that it should not run.
    @discardableResult
    public func stop(_ id: String) async throws -> PipelineStatus {
        _ = try await record(id, desiredState: .stopped)
        if let pipeline = running.removeValue(forKey: id) { await pipeline.stop() }
        return status(id)
    }

    /// Stops and starts again, picking up changed settings.
    @discardableResult
    public func restart(_ id: String) async throws -> PipelineStatus {
        if let pipeline = running.removeValue(forKey: id) { await pipeline.stop() }
        return try await start(id)
    }

    /// The live status, or `stopped`/`created` from what is stored. Reads the
    /// worker's published progress directly: no hop through this actor or the pipeline's.
    public nonisolated func status(_ id: String) -> PipelineStatus {
        if let pipeline = live.withLock({ $0[id] }) { return pipeline.status }
        var status = PipelineStatus()
        status.state = FileManager.default.fileExists(atPath: dataDirectory.eventStorePath(pipelineID: id))
            ? .stopped : .created
        return status
    }

    /// The configuration a live pipeline was started with; nil when it is not running.
    public nonisolated func config(_ id: String) -> PipelineConfig? {
        live.withLock { $0[id] }?.config
    }

    /// Stops every pipeline (desired states are kept, so they resume on next boot).
    public func shutdown() async {
        let pipelines = running
        running = [:]
        await withTaskGroup(of: Void.self) { group in
            for pipeline in pipelines.values { group.addTask { await pipeline.stop() } }
        }
    }

    private func launch(_ record: PipelineRecord) async throws {
        if let existing = running[record.id] {
            await existing.start()
            return
        }
        guard let source = try await store.source(id: record.sourceID) else {
            throw Failure.unknownSource(record.sourceID)
        }
        guard let slot = SlotName(rawValue: record.slotName) else {
            throw Failure.invalid("slot name \(record.slotName) is not a valid replication slot name")
        }
        let config = try PipelineConfig(
            id: record.id, source: source.connectionSettings, publication: record.publication, slot: slot,
            storePath: dataDirectory.eventStorePath(pipelineID: record.id), filter: record.filters,
            snapshot: record.snapshot.options(enabled: record.initialLoad))
        let pipeline = Pipeline(config: config)
        running[record.id] = pipeline
        await pipeline.start()
    }

    /// The stored pipeline, with its desired state saved as `desiredState`.
    private func record(_ id: String, desiredState: PipelineRecord.DesiredState) async throws -> PipelineRecord {
        guard var record = try await store.pipeline(id: id) else { throw Failure.unknownPipeline(id) }
        if record.desiredState != desiredState {
            record.desiredState = desiredState
            record.updatedAt = Timestamps.now()
            try await store.save(record)
        }
        return record
    }
}

/// RFC 3339 timestamps for records.
public enum Timestamps {
    public static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
