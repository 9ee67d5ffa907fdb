// Backfill requests and cancels, stored by the API before it answers.
//
// A backfill accepted with a 202 must survive the pipeline stopping or
// crashing a moment later. Handing the request to the running worker in
// memory lost it then; going through the worker's own writer would make the
// answer wait for its next pass (and for minutes during an initial load).
// So, like `EventStoreConsumers`, the API writes one row of the store's
// `backfill_requests` table through a connection of its own, with
// `synchronous = FULL` so the row is on disk when the answer leaves. The
// pipeline reads the table on its side (`EventStoreWriter.backfillRequests`)
// and deletes a row in the group that records what it did with it.
// The calls block on SQLite (up to the busy timeout while a group holds the
// lock): call them from a thread, never from the cooperative pool.

import Synchronization

/// A request or cancel the pipeline has not carried out yet.
public struct BackfillRequestRow: Sendable, Equatable {
    public let id: String
    /// The request as the API stored it (JSON of the pipeline code).
    public let body: String
    /// A cancel of the backfill was asked for.
    public let cancel: Bool
    public let requestedAtMicros: Int64

    public init(id: String, body: String, cancel: Bool, requestedAtMicros: Int64) {
        self.id = id
        self.body = body
        self.cancel = cancel
        self.requestedAtMicros = requestedAtMicros
    }
}

/// Stores backfill requests and cancels of one store, from the API.
public final class EventStoreBackfillRequests: Sendable {
    public let path: String
    private let state: Mutex<Connection?>

    private final class Connection: @unchecked Sendable {
        let connection: SQLiteConnection
        init(connection: SQLiteConnection) { self.connection = connection }
        deinit { connection.close() }
    }

    /// Opens the store at `path`, creating it when it does not exist yet.
    public init(path: String) throws(EventStoreError) {
        self.path = path
        // FULL: the row is fsynced at its commit, before the API answers 202.
        let connection = try SQLiteConnection.openSideConnection(path: path, durability: .full)
        state = Mutex(Connection(connection: connection))
    }

    /// Stores a new request.
    public func add(_ row: BackfillRequestRow) throws(EventStoreError) {
        try withConnection("store backfill request \(row.id)") { (connection, operation) throws(EventStoreError) in
            let insert = try connection.prepare(
                "INSERT INTO backfill_requests (id, body, cancel, requested_at_us) VALUES (?1, ?2, ?3, ?4)",
                operation: operation)
            defer { insert.finalize() }
            insert.bind(row.id, at: 1)
            insert.bind(row.body, at: 2)
            insert.bind(row.cancel ? 1 : 0, at: 3)
            insert.bind(row.requestedAtMicros, at: 4)
            try insert.run(operation)
        }
    }

    /// Stores a cancel of backfill `id`: on its request if that is still
    /// waiting, else as a row of its own (`body` describes the backfill).
    public func cancel(id: String, body: String, requestedAtMicros: Int64) throws(EventStoreError) {
        try withConnection("store cancel of backfill \(id)") { (connection, operation) throws(EventStoreError) in
            let upsert = try connection.prepare(
                """
                INSERT INTO backfill_requests (id, body, cancel, requested_at_us) VALUES (?1, ?2, 1, ?3)
                ON CONFLICT (id) DO UPDATE SET cancel = 1
                """, operation: operation)
            defer { upsert.finalize() }
            upsert.bind(id, at: 1)
            upsert.bind(body, at: 2)
            upsert.bind(requestedAtMicros, at: 3)
            try upsert.run(operation)
        }
    }

    /// Every request not carried out yet, oldest first.
    public func list() throws(EventStoreError) -> [BackfillRequestRow] {
        try withConnection("list backfill requests") { (connection, operation) throws(EventStoreError) in
            try Self.rows(connection, operation)
        }
    }

    /// Closes the connection. Idempotent; later calls throw `.misuse`.
    public func close() {
        state.withLock { $0 = nil }
    }

    static func rows(_ connection: SQLiteConnection, _ operation: String) throws(EventStoreError)
        -> [BackfillRequestRow]
    {
        let query = try connection.prepare(
            "SELECT id, body, cancel, requested_at_us FROM backfill_requests ORDER BY requested_at_us, id",
            operation: operation)
        defer { query.finalize() }
        var rows: [BackfillRequestRow] = []
        while try query.step(operation) {
            rows.append(
                BackfillRequestRow(
                    id: query.text(0) ?? "", body: query.text(1) ?? "", cancel: query.int64(2) != 0,
                    requestedAtMicros: query.int64(3)))
        }
        return rows
    }

    private func withConnection<R: Sendable>(
        _ operation: String, _ body: (SQLiteConnection, String) throws(EventStoreError) -> R
    ) throws(EventStoreError) -> R {
        let path = path
        return try state.withLock { (state) throws(EventStoreError) -> R in
            guard let state else {
                throw .misuse("the backfill request log is closed", operation: operation, path: path)
            }
            return try body(state.connection, operation)
        }
    }
}
