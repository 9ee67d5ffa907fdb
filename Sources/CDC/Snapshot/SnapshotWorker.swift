// One reader of the snapshot: a connection of its own that imports the
// load's exported snapshot, then takes chunks until none are left, encoding
// their rows into batches for the store's writer. Several run at once; all
// of them see the database exactly as of the slot's consistent point.

import EventStore
import Foundation
import PgOutput
import PostgresReplication
import PostgresWire
import Synchronization

/// Hands out the chunks still to read, each to exactly one worker.
final class ChunkDispenser: Sendable {
    private let remaining: Mutex<[SnapshotChunk]>

    init(_ chunks: [SnapshotChunk]) {
        remaining = Mutex(chunks.reversed())
    }

    func next() -> SnapshotChunk? {
        remaining.withLock { $0.popLast() }
    }
}

struct SnapshotWorker: Sendable {
    /// A batch is handed over at the first page boundary past either bound,
    /// so the writer and the memory in flight see steady, bounded pieces.
    static let batchBytes = 1 << 20
    static let batchRows = 4096

    let settings: ConnectionSettings
    /// How long the server may stay silent on a query or the COPY before the
    /// connection is taken for dead (a stalled link never ends otherwise).
    let receiveTimeout: Duration
    let snapshot: String
    let tables: [SnapshotPlan.Table]
    let database: String
    let consistentPoint: LSN
    /// A managed publication's row filters, which the load reads with (`RowFilterReads`).
    var rowFilters: [String: RowCondition] = [:]

    struct Cancelled: Error {}

    /// Starts the worker on its own thread; it reports its end to `queue`.
    func start(name: String, dispenser: ChunkDispenser, queue: SnapshotQueue) {
        let thread = Thread {
            Self.yieldToTheWriter()
            do {
                try run(dispenser: dispenser, queue: queue)
                queue.finish(.workerFinished)
            } catch {
                queue.finish(.workerFailed(error))
            }
        }
        thread.name = name
        thread.start()
    }

    private func run(dispenser: ChunkDispenser, queue: SnapshotQueue) throws {
        let connection = try PostgresConnection(settings: settings, mode: .sql, applicationName: "popsink-pg load")
        connection.queryTimeout = receiveTimeout
        try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try connection.query("SET TRANSACTION SNAPSHOT \(PostgresConnection.quoteLiteral(snapshot))")
        try connection.query(RowSecurity.off)
        try Self.lockTables(tables, connection)
        try Self.prepareForPageOrder(connection)
        let reader = ChunkReader(connection: connection)
        var filters = RowFilterReads(rows: rowFilters)
        var encoder = EventEncoder(database: database)
        let context = EventEncoder.TransactionContext(snapshotAt: consistentPoint)
        let tableIndex = SnapshotPlan.index(tables)
        while let chunk = dispenser.next() {
            guard let index = tableIndex[chunk.tableName] else { continue }
            let table = tables[index]
            var batch = SnapshotBatch(chunk: chunk.id, nextPage: chunk.nextPage, capacity: Self.batchBytes)
            var lastPage: UInt32?
            let relation = table.schema.relation
            let filter = try filters.sql(schema: relation.namespace, table: relation.name, connection: connection)
            try reader.read(chunk, of: table, from: chunk.nextPage, filter: filter) { page, row in
                if let page, page != lastPage, batch.count >= Self.batchRows || batch.tails.count >= Self.batchBytes {
                    batch.nextPage = page
                    guard queue.put(batch) else { throw Cancelled() }
                    batch = SnapshotBatch(chunk: chunk.id, nextPage: page, capacity: Self.batchBytes)
                }
                lastPage = page
                encoder.loadedRow(
                    row, schema: table.schema, transaction: context, lsn: consistentPoint, into: &batch.tails)
                batch.ends.append(batch.tails.count)
            }
            batch.nextPage = chunk.endPage ?? lastPage.map { $0 + 1 } ?? chunk.nextPage
            batch.finishesChunk = true
            guard queue.put(batch) else { throw Cancelled() }
        }
        try connection.query("COMMIT")
    }

    /// Workers run at a lower priority than the pipeline thread that stores
    /// their batches. The store's single writer is the load's serial stage;
    /// with more runnable threads than cores, fair scheduling gave it only
    /// its share of a core and more workers made the load slower.
    static func yieldToTheWriter() {
        #if os(Linux)
            // On Linux the nice value is per thread, and `who` 0 is the calling thread.
            let which = __priority_which_t(PRIO_PROCESS.rawValue)
            _ = setpriority(which, 0, min(19, getpriority(which, 0) + 5))
        #endif
    }

    /// Locks every table of the load at once, as the planner did. A DDL
    /// issued during the load queues for its ACCESS EXCLUSIVE lock behind the
    /// planner's, and a lock asked for later queues behind the DDL: a worker
    /// reading its next table would wait for the DDL, the DDL for the load's
    /// end, and the load for the worker, a deadlock no server can see (the
    /// planner waits in the client). Any wait here is that deadlock, since
    /// the planner already holds the same locks: NOWAIT fails the load at
    /// once, and the retry finds the DDL done.
    static func lockTables(_ tables: [SnapshotPlan.Table], _ connection: PostgresConnection) throws {
        guard !tables.isEmpty else { return }
        let names = tables.map(\.qualifiedName).joined(separator: ", ")
        try connection.query("LOCK TABLE \(names) IN ACCESS SHARE MODE NOWAIT")
    }

    /// Rows must come in heap order for page-by-page progress: no parallel
    /// query (its workers interleave pages) and no synchronized scan (it may
    /// start in the middle of the table).
    static func prepareForPageOrder(_ connection: PostgresConnection) throws {
        try connection.query("SET synchronize_seqscans = off")
        try connection.query("SET max_parallel_workers_per_gather = 0")
    }
}
