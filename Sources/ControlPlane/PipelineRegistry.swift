// Owns the running pipelines of a service: one `Pipeline` actor per stored
// pipeline, started and stopped on command, and restarted on boot when the
// stored desired state says it was running (so a crash or restart of the
// service resumes from each pipeline's checkpoint).
//
// Every command on one pipeline (start, stop, restart, a new record, delete)
// runs in that pipeline's queue, one after the other, so two commands can
// never both see "not running" and both start a worker. Each start builds the
// worker's configuration from the records as stored at that moment.

import Blocking
import CDC
import EventStore
import Foundation
import PostgresReplication
import Sinks
import Synchronization

/// The pipelines of one service and their lifecycle.
public actor PipelineRegistry {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownPipeline(String)
        case unknownSource(String)
        case alreadyExists(String)
        /// A change refused while the pipeline runs.
        case running(String)
        case sourceInUse(String, pipelines: [String])
        case sourceUnavailable(String)

        public var description: String {
            switch self {
            case .unknownPipeline(let id): "no pipeline with id \(id)"
            case .unknownSource(let id): "no source with id \(id)"
            case .alreadyExists(let id): "pipeline \(id) already exists; PUT /v1/pipelines/\(id) updates it"
            case .running(let message): message
            case .sourceInUse(let id, let pipelines):
                "source \(id) is used by pipelines \(pipelines.joined(separator: ", ")); delete them first"
            case .sourceUnavailable(let message): message
            }
        }
    }

    /// What the registry holds for a pipeline it was asked to run.
    enum Entry: Sendable {
        /// Launched; its status is the worker's (running, or how its run ended).
        case launched(Pipeline)
        /// Its record cannot make a worker (source gone, invalid slot): the
        /// status says why until a later start succeeds.
        case refused(PipelineStatus)
    }

    private let store: any StateStore
    private let dataDirectory: DataDirectory
    /// Only the actor changes the map, inside a pipeline's queue; the lock
    /// lets `status` read it from any thread without waiting behind a start
    /// or stop in progress.
    private let entries = Mutex<[String: Entry]>([:])
    private var queues = SerialQueues()
    /// The sinks of each launched pipeline, started and stopped with it.
    private let sinkGroups = Mutex<[String: PipelineSinks]>([:])
    /// Each pipeline's commits, for the followers of its store (SSE, long-polls).
    private let durable = Mutex<[String: DurableSequence]>([:])
    /// Commands that must not interleave with record writes of any pipeline:
    /// deleting a source, and saving a pipeline that names one.
    private static let recordsKey = "\u{0}records"

    public init(store: any StateStore, dataDirectory: DataDirectory) {
        self.store = store
        self.dataDirectory = dataDirectory
    }

    /// Starts every pipeline whose desired state is `running`. A record that
    /// cannot start fails alone, its status saying why; the others come up.
    /// Certificate copies a killed process left behind are removed first.
    public func resume() async {
        SourceCredentialFiles(dataDirectory: dataDirectory).removeLeftovers()
        let records = (try? await store.pipelines()) ?? []
        for record in records where record.desiredState == .running {
            _ = try? await start(record.id)
        }
    }

    /// Starts a pipeline (no-op when it runs) and records that it should run.
    @discardableResult
    public func start(_ id: String) async throws -> PipelineStatus {
        try await serialized(id) { registry in
            await registry.launch(try await registry.setDesiredState(id, .running))
        }
        return status(id)
    }

    /// Stops a pipeline with a final status update and records that it should not run.
    @discardableResult
    public func stop(_ id: String) async throws -> PipelineStatus {
        try await serialized(id) { registry in
            _ = try await registry.setDesiredState(id, .stopped)
            await registry.halt(id)
        }
        return status(id)
    }

    /// Stops and starts again with the records as stored now.
    @discardableResult
    public func restart(_ id: String) async throws -> PipelineStatus {
        try await serialized(id) { registry in
            let record = try await registry.setDesiredState(id, .running)
            await registry.halt(id)
            await registry.launch(record)
        }
        return status(id)
    }

    /// Creates or replaces a pipeline's record from `spec` and does what the
    /// change means for its worker (`PipelineChange`). With `create`, an
    /// existing pipeline is refused rather than replaced.
    public func put(
        _ id: String, _ spec: PipelineSpec, create: Bool = false
    ) async throws -> (record: PipelineRecord, created: Bool) {
        try await serialized(id) { registry in
            let previous = try await registry.store.pipeline(id: id)
            if previous != nil && create { throw Failure.alreadyExists(id) }
            let record = spec.record(id: id, previous: previous, now: Timestamps.now())
            return (try await registry.apply(record, previous: previous), previous == nil)
        }
    }

    /// Replaces a pipeline's table filter; a running pipeline restarts with it.
    public func setFilters(_ id: String, _ filters: TableFilter) async throws -> PipelineRecord {
        try await serialized(id) { registry in
            guard let previous = try await registry.store.pipeline(id: id) else { throw Failure.unknownPipeline(id) }
            var record = previous
            record.filters = filters
            return try await registry.apply(record, previous: previous)
        }
    }

    /// Stops a pipeline, optionally drops its slot, and removes its record and store.
    public func delete(_ id: String, dropSlot: Bool) async throws {
        try await serialized(id) { registry in
            guard let record = try await registry.store.pipeline(id: id) else { throw Failure.unknownPipeline(id) }
            await registry.halt(id)
            if dropSlot, let source = try await registry.store.source(id: record.sourceID) {
                try await SlotDropper.drop(
                    record.slotName, source: source,
                    credentials: SourceCredentialFiles(dataDirectory: registry.dataDirectory))
                if record.publicationMode == .managed {
                    try await PublicationDropper.drop(
                        record.publication, source: source,
                        credentials: SourceCredentialFiles(dataDirectory: registry.dataDirectory))
                }
            }
            _ = try await registry.store.deletePipeline(id: id)
            try? FileManager.default.removeItem(atPath: registry.dataDirectory.pipelineDirectory(id))
            registry.entries.withLock { _ = $0.removeValue(forKey: id) }
            registry.durable.withLock { $0.removeValue(forKey: id) }?.close()
        }
    }

    /// Deletes a source no pipeline names; refused while one does.
    public func deleteSource(_ id: String) async throws {
        try await serialized(Self.recordsKey) { registry in
            guard try await registry.store.source(id: id) != nil else { throw Failure.unknownSource(id) }
            let users = try await registry.store.pipelines().filter { $0.sourceID == id }.map(\.id)
            guard users.isEmpty else { throw Failure.sourceInUse(id, pipelines: users) }
            _ = try await registry.store.deleteSource(id: id)
            SourceCredentialFiles(dataDirectory: registry.dataDirectory).remove(sourceID: id)
        }
    }

    /// The live status, or `stopped`/`created` from what is stored. Reads the
    /// worker's published progress directly: no hop through this actor or the pipeline's.
    public nonisolated func status(_ id: String) -> PipelineStatus {
        switch entries.withLock({ $0[id] }) {
        case .launched(let pipeline): return pipeline.status
        case .refused(let status): return status
        case nil:
            var status = PipelineStatus()
            status.state =
                FileManager.default.fileExists(atPath: dataDirectory.eventStorePath(pipelineID: id))
                ? .stopped : .created
            return status
        }
    }

    /// The status of each sink of a launched pipeline, in the record's order;
    /// empty when it is not launched.
    public nonisolated func sinkStatuses(_ id: String) -> [SinkStatus] {
        sinkGroups.withLock { $0[id] }?.statuses ?? []
    }

    /// The commits of a pipeline's store, reported by its worker: what the
    /// followers of the store wait on. Closed when the pipeline is deleted.
    public nonisolated func commits(_ id: String) -> DurableSequence {
        durable.withLock { map in
            if let sequence = map[id] { return sequence }
            let sequence = DurableSequence()
            map[id] = sequence
            return sequence
        }
    }

    /// The configuration a live pipeline was started with; nil when it is not running.
    public nonisolated func config(_ id: String) -> PipelineConfig? {
        guard case .launched(let pipeline) = entries.withLock({ $0[id] }) else { return nil }
        return pipeline.config
    }

    /// Stops every pipeline (desired states are kept, so they resume on next boot).
    public func shutdown() async {
        let ids = entries.withLock { Array($0.keys) }
        await withTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask { _ = try? await self.serialized(id) { registry in await registry.halt(id) } }
            }
        }
    }

    // MARK: - Inside a pipeline's queue

    /// Runs `operation` after every command queued before it on `key`.
    private func serialized<T: Sendable>(
        _ key: String, _ operation: @escaping @Sendable (isolated PipelineRegistry) async throws -> T
    ) async throws -> T {
        let task = queues.submit(key) { try await operation(self) }
        defer { queues.finished(key) }
        return try await task.value
    }

    /// Saves `record` and starts, stops or restarts its worker as the change
    /// requires; returns the record as stored.
    private func apply(_ record: PipelineRecord, previous: PipelineRecord?) async throws -> PipelineRecord {
        let change: PipelineChange
        do {
            change = try PipelineChange.of(record, previous: previous, active: isRunning(record.id))
        } catch {
            throw Failure.running(error.description)
        }
        var current = record
        if record != previous {
            if previous != nil { current.updatedAt = Timestamps.now() }
            try await save(current)
        }
        switch change {
        case .none:
            // A run that ended (failed, finished) is forgotten once it should not run.
            if record.desiredState == .stopped { await halt(record.id) }
        case .start: await launch(current)
        case .stop: await halt(record.id)
        case .restart:
            await halt(record.id)
            await launch(current)
        }
        return current
    }

    /// Saves a pipeline record, refusing one whose source does not exist. In
    /// the records queue, so a source cannot be deleted between the check and the save.
    private func save(_ record: PipelineRecord) async throws {
        try await serialized(Self.recordsKey) { registry in
            guard try await registry.store.source(id: record.sourceID) != nil else {
                throw Failure.unknownSource(record.sourceID)
            }
            try await registry.store.save(record)
        }
    }

    /// Whether a worker runs for `id`: launched, and its run has not ended.
    /// A worker reports `created` until its thread publishes its first state.
    private func isRunning(_ id: String) -> Bool {
        guard case .launched(let pipeline) = entries.withLock({ $0[id] }) else { return false }
        let state = pipeline.status.state
        return state.isActive || state == .created
    }

    /// Starts a worker for `record` unless one runs. A previous run that ended
    /// (failed, finished) is replaced by one built from `record`, never restarted as it was.
    private func launch(_ record: PipelineRecord) async {
        if isRunning(record.id) { return }
        await halt(record.id)
        let config: PipelineConfig
        do {
            config = try await configuration(record)
        } catch {
            var status = PipelineStatus()
            status.state = .failed
            status.lastError = error
            entries.withLock { $0[record.id] = .refused(status) }
            return
        }
        let commits = commits(record.id)
        let sinks = PipelineSinks(record.sinks, pipelineID: record.id, storePath: config.storePath)
        var bounded = config
        if sinks.boundsConfirmation { bounded.confirmLimit = { sinks.confirmLimit(storeLast: $0) } }
        let pipeline = Pipeline(
            config: bounded,
            onDurable: {
                commits.advance(to: $0)
                sinks.durable(upTo: $0)
            })
        entries.withLock { $0[record.id] = .launched(pipeline) }
        sinkGroups.withLock { $0[record.id] = sinks }
        sinks.start()
        await pipeline.start()
    }

    /// Stops the worker if one runs and forgets the entry; waits for its thread to end.
    private func halt(_ id: String) async {
        let sinks = sinkGroups.withLock { $0.removeValue(forKey: id) }
        if let entry = entries.withLock({ $0.removeValue(forKey: id) }), case .launched(let pipeline) = entry {
            await pipeline.stop()
        }
        // After the pipeline, so each sink's last batch can include its last commit.
        if let sinks { await Blocking.run { sinks.stop() } }
    }

    /// The worker's configuration from the pipeline's and its source's records as stored now.
    private func configuration(_ record: PipelineRecord) async throws(PipelineError) -> PipelineConfig {
        let source: SourceRecord?
        do {
            source = try await store.source(id: record.sourceID)
        } catch {
            throw PipelineError(.store, "cannot read source \(record.sourceID) from the state store: \(error)")
        }
        guard let source else {
            throw PipelineError(
                .invalidConfiguration, "pipeline \(record.id) names source \(record.sourceID), which does not exist",
                remediation: "PUT the pipeline with the id of an existing source, or delete it.")
        }
        guard let slot = SlotName(rawValue: record.slotName) else {
            throw PipelineError(
                .invalidConfiguration, "slot name \(record.slotName) is not a valid replication slot name",
                remediation: "PUT the pipeline with a slot_name of 1 to 63 of a-z 0-9 _.")
        }
        let settings: ConnectionSettings
        do {
            settings = try SourceCredentialFiles(dataDirectory: dataDirectory).settings(for: source)
        } catch {
            throw PipelineError(.store, "\(error)")
        }
        var config = try PipelineConfig(
            id: record.id, source: settings, publication: record.publication, slot: slot,
            storePath: dataDirectory.eventStorePath(pipelineID: record.id), filter: record.filters,
            snapshot: record.snapshot.options(), retention: record.retention.policy)
        config.messages = record.messages
        if let seconds = record.receiveTimeout { config.receiveTimeout = .seconds(seconds) }
        config.publicationMode = record.publicationMode
        config.columnMask = record.columns
        config.connectionBudget = source.connectionBudget
        return config
    }

    /// The stored pipeline, with its desired state saved as `desiredState`.
    private func setDesiredState(_ id: String, _ desiredState: PipelineRecord.DesiredState) async throws
        -> PipelineRecord
    {
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
    public static func now() -> String { iso8601(Date()) }

    /// A time in microseconds since 1970, as the stores keep it.
    public static func iso8601(unixMicroseconds: Int64) -> String {
        iso8601(Date(timeIntervalSince1970: Double(unixMicroseconds) / 1_000_000))
    }

    private static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
