// The snapshot (DESIGN §4 invariant 7): every table the publication and
// the filter select, read as of the snapshot the replication slot exported
// when it was created, stored as `r` events before the first streamed
// change. Streaming then starts at the slot's consistent point, so each
// committed change is in exactly one of the two: the snapshot or the stream.
//
// Tables are cut into chunks of heap pages (`SnapshotPlan`) and read in parallel
// by `SnapshotWorker`s that all import the same snapshot; this thread is the
// store's only writer. It numbers the rows in the order it stores them and
// records each chunk's progress in the same group as its rows, so a load
// that stops half way (a crash, a stop request) is known to the page. Such a
// load cannot use the snapshot again (it died with the connection that
// exported it); `WatermarkSnapshot` finishes it while streaming.

import EventStore
import Foundation
import PgOutput
import PostgresReplication
import PostgresWire

enum SnapshotLoad {
    static let stateKey = "initial_load"

    enum Outcome {
        case finished
        /// A stop was requested; what is stored is recorded per chunk.
        case stopped
    }

    static func run(
        config: PipelineConfig, snapshot: String, consistentPoint: LSN, database: String,
        store: EventStoreWriter, progress: PipelineProgress, shouldStop: () -> Bool
    ) throws -> Outcome {
        progress.update { $0.state = .snapshotting }
        let planner = try PostgresConnection(settings: config.source, mode: .sql, applicationName: "popsink-pg load")
        planner.queryTimeout = config.receiveTimeout
        try planner.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try planner.query("SET TRANSACTION SNAPSHOT \(PostgresConnection.quoteLiteral(snapshot))")
        var tables = try SnapshotPlan.tables(
            config: config, connection: planner, catalog: CatalogLookup(connection: planner))
        // Held until the load ends: no rewrite may renumber pages under it.
        try planner.query("SET LOCAL lock_timeout = '60s'")
        for table in tables {
            // A lock wait is no silent network: the client waits out the server's lock timeout.
            try planner.query(
                "LOCK TABLE \(table.qualifiedName) IN ACCESS SHARE MODE", [],
                timeout: .seconds(60) + config.receiveTimeout)
        }
        try RowSecurity.refuseHiddenRows(planner, tables: tables.map(\.qualifiedName))
        let chunks = SnapshotPlan.chunks(
            of: tables, pagesPerChunk: config.snapshot.chunkPages, serverVersion: planner.serverVersion)
        // Rows of the load share the consistent point as their commit LSN,
        // so every group of it carries the same checkpoint.
        let checkpoint = Checkpoint(lastCommitLSN: consistentPoint, flushLSN: consistentPoint)
        let context = EventEncoder.TransactionContext(snapshotAt: consistentPoint)
        var registry = try SchemaRegistry(stored: store.latestTableSchemas())
        try store.beginGroup()
        try store.addSnapshotChunks(chunks)
        // The set as of the snapshot: a table that starts to match later is backfilled (`TableSetWatch`).
        try store.setMetadata(CapturedTables.metadataKey, CapturedTables(tables.map(\.name)).stored)
        let announced = try SnapshotSchemas.announce(
            tables, registry: &registry, store: store, context: context, database: database, firstOrdinal: 0)
        tables = announced.tables
        try store.commitGroup(checkpoint: checkpoint)
        progress.update {
            $0.eventsStored += Int64(announced.events)
            $0.eventsByOperation.schemas += Int64(announced.events)
        }

        var tracker = SnapshotProgressTracker(tables: tables, chunks: chunks)
        progress.update { $0.snapshot = tracker.tables }
        // Room for each worker to read on while the writer waits on an fsync.
        let queue = SnapshotQueue(capacity: 4 * config.snapshot.workers)
        let dispenser = ChunkDispenser(chunks)
        let workers = try workerConnections(
            config: config, wanted: max(1, min(config.snapshot.workers, chunks.count)), shouldStop: shouldStop)
        defer { workers.release() }
        let workerCount = workers.count
        guard workerCount > 0 else { return .stopped }  // asked to stop while waiting for a connection
        var worker = SnapshotWorker(
            settings: config.source, receiveTimeout: config.receiveTimeout, snapshot: snapshot, tables: tables,
            database: database, consistentPoint: consistentPoint)
        if config.publicationMode == .managed { worker.rowFilters = config.filter.rows }
        for number in 0..<workerCount {
            worker.start(name: "popsink-load-\(config.id)-\(number)", dispenser: dispenser, queue: queue)
        }

        var writer = SnapshotWriter(
            store: store, checkpoint: checkpoint, context: context, maxEvents: config.snapshot.rowsPerGroup,
            firstOrdinal: announced.events)
        var running = workerCount
        var refused: [any Error] = []
        var failure: (any Error)?
        var stopped = false
        while running > 0 {
            if !stopped && shouldStop() {
                stopped = true
                queue.cancel()
            }
            // Every error ends the loop only once the workers have all
            // stopped, so none is left blocked on a full queue.
            let item = queue.take(timeout: 0.1)
            if case .batch(let batch) = item, failure == nil, !stopped {
                do {
                    try writer.store(batch)
                } catch {
                    failure = error
                    queue.cancel()
                }
            }
            if failure == nil {
                do {
                    if let committed = try writer.commitIfDue(force: false) { publish(committed, &tracker, progress) }
                } catch {
                    failure = error
                    queue.cancel()
                }
            }
            switch item {
            case .batch, nil:
                break
            case .workerFinished:
                running -= 1
            case .workerFailed(let error) where ServerConnectionLimit.isRefusal(error):
                // Postgres had no room for this worker: the others read its chunks.
                running -= 1
                refused.append(error)
                if refused.count == workerCount, failure == nil {
                    failure = error
                    queue.cancel()
                }
            case .workerFailed(let error):
                running -= 1
                if failure == nil && !(error is SnapshotWorker.Cancelled) {
                    failure = error
                    queue.cancel()
                }
            }
        }
        if let failure {
            store.rollbackGroup()
            throw failure
        }
        if !stopped { try writer.markFinished() }
        if let committed = try writer.commitIfDue(force: true) { publish(committed, &tracker, progress) }
        try planner.query("COMMIT")
        return stopped ? .stopped : .finished
    }

    /// Connections for `wanted` workers, or as many as the source's budget
    /// has free (at least one, waited for up to the receive timeout).
    private static func workerConnections(
        config: PipelineConfig, wanted: Int, shouldStop: () -> Bool
    ) throws -> SourceConnectionBudget.Lease {
        guard let budget = config.connectionBudget else { return .unbudgeted(wanted) }
        let deadline = ContinuousClock.now + config.receiveTimeout
        while true {
            let lease = budget.reserveUpTo(wanted, for: config.id)
            if lease.count > 0 || shouldStop() { return lease }
            guard ContinuousClock.now < deadline else {
                return try budget.reserve(1, for: config.id, purpose: "a load worker")
            }
            usleep(100_000)
        }
    }

    private static func publish(
        _ committed: SnapshotWriter.Committed, _ tracker: inout SnapshotProgressTracker, _ progress: PipelineProgress
    ) {
        tracker.apply(committed.chunks)
        progress.update {
            $0.snapshot = tracker.tables
            $0.eventsStored += Int64(committed.events)
            $0.eventsByOperation.reads += Int64(committed.events)
        }
    }
}

/// The store side of the load: numbers rows, appends them, records chunk
/// progress in the same group, and commits groups.
struct SnapshotWriter {
    struct Committed {
        let events: Int
        /// Progress made by each chunk in the group: (chunk, rows, finished).
        let chunks: [SnapshotProgressTracker.ChunkProgress]
    }

    private let store: EventStoreWriter
    private let checkpoint: Checkpoint
    private let context: EventEncoder.TransactionContext
    private let maxEvents: Int
    private var ordinal: Int32 = 0
    private var scratch: [UInt8] = []
    private var inGroup = 0
    private var groupChunks: [SnapshotProgressTracker.ChunkProgress] = []
    private var openedAt: ContinuousClock.Instant?

    init(
        store: EventStoreWriter, checkpoint: Checkpoint, context: EventEncoder.TransactionContext, maxEvents: Int,
        firstOrdinal: Int32 = 0
    ) {
        ordinal = firstOrdinal
        self.store = store
        self.checkpoint = checkpoint
        self.context = context
        self.maxEvents = maxEvents
    }

    mutating func store(_ batch: SnapshotBatch) throws {
        if !store.isGroupOpen {
            try store.beginGroup()
            openedAt = .now
        }
        let first = ordinal
        guard Int(first) + batch.count <= Int(Int32.max) else {
            throw PipelineError(
                .invalidConfiguration, "the snapshot has more than \(Int32.max) rows, more than event ids can number",
                remediation: "Load the largest tables separately (filters), or start with --no-snapshot.")
        }
        try batch.forEachRow { tail in
            EventEncoder.withID(tail, transaction: context, ordinal: ordinal, into: &scratch)
            try scratch.withUnsafeBytes { body in
                _ = try store.append(commitLSN: context.commitLSN, ordinal: ordinal, body: body)
            }
            ordinal += 1
        }
        try store.recordSnapshotProgress(
            chunk: batch.chunk, nextPage: batch.nextPage, rows: Int64(batch.count), done: batch.finishesChunk)
        inGroup += batch.count
        groupChunks.append(.init(id: batch.chunk, rows: Int64(batch.count), done: batch.finishesChunk))
    }

    mutating func markFinished() throws {
        if !store.isGroupOpen { try store.beginGroup() }
        try store.setMetadata(SnapshotLoad.stateKey, "done")
    }

    /// Commits the group when it is big or old enough, or when `force`d.
    mutating func commitIfDue(force: Bool) throws -> Committed? {
        guard store.isGroupOpen else { return nil }
        let old = openedAt.map { ContinuousClock.now - $0 >= .seconds(1) } ?? true
        guard force || inGroup >= maxEvents || old else { return nil }
        try store.commitGroup(checkpoint: checkpoint)
        let committed = Committed(events: inGroup, chunks: groupChunks)
        inGroup = 0
        groupChunks.removeAll(keepingCapacity: true)
        openedAt = nil
        return committed
    }
}
