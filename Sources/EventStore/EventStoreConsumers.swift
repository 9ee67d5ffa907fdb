// Named consumers' positions, written from the API whether or not the
// pipeline runs.
//
// The positions live in the store's own `consumers` table, written through a
// connection of their own rather than through the pipeline's writer:
// - retention reads them and marks lost consumers in the same transaction as
//   it deletes, so "deleted" and "marked lost" can never disagree (a separate
//   file would make that two commits);
// - an acknowledgement needs no running pipeline (a hop through the pipeline
//   thread's queue would), and does not take the writer's flock;
// - the write holds SQLite's write lock for one row and commits with
//   `synchronous=NORMAL`, without an fsync of its own (it becomes durable with
//   the writer's next fsynced commit, or the next checkpoint), so a group
//   commit waits at most that long for it. After a power loss an
//   acknowledgement can go back a little, which only makes retention keep more.
// The calls block on SQLite (up to the busy timeout while a group holds the
// lock): call them from a thread, never from the cooperative pool.

import PostgresWire
import Synchronization

/// Registers, acknowledges, lists and deletes the named consumers of one store.
public final class EventStoreConsumers: Sendable {
    public let path: String
    private let state: Mutex<EventStoreReader.OpenState?>

    /// Opens the store at `path`, creating it (and its directory) when it does
    /// not exist yet, so consumers can register before the pipeline first runs.
    public init(path: String) throws(EventStoreError) {
        self.path = path
        let connection = try SQLiteConnection.openSideConnection(path: path, durability: .normal)
        state = Mutex(EventStoreReader.OpenState(connection: connection, queries: try StoreQueries(connection)))
    }

    /// Every consumer, by name.
    public func list() throws(EventStoreError) -> [ConsumerPosition] {
        try withConnection("list consumers") { (connection, _) throws(EventStoreError) in
            let query = try connection.prepare(
                "SELECT name, acked_seq, created_at_us, updated_at_us, lost_through FROM consumers ORDER BY name")
            defer { query.finalize() }
            var consumers: [ConsumerPosition] = []
            while try query.step("list consumers") { consumers.append(Self.position(query)) }
            return consumers
        }
    }

    /// The store's last sequence: what a consumer's lag is measured against.
    public func lastSequence() throws(EventStoreError) -> Int64 {
        try withConnection("read last sequence") { (_, queries) throws(EventStoreError) in
            try queries.range().lastSequence
        }
    }

    /// One consumer, nil when none has that name.
    public func consumer(_ name: String) throws(EventStoreError) -> ConsumerPosition? {
        try withConnection("read consumer \(name)") { (connection, _) throws(EventStoreError) in
            try Self.read(name, connection)
        }
    }

    /// Registers `name` at `ackedSequence`, or moves an existing consumer's
    /// position forward (an older acknowledgement, such as a retried request,
    /// changes nothing: positions never go back). Returns the consumer as stored.
    ///
    /// A position beyond the store's last sequence is refused
    /// (`.cursorBeyondEnd`), and so is registering below the oldest retained
    /// event (`.cursorExpired`): retention can only keep what is still there.
    @discardableResult
    public func acknowledge(_ name: String, through ackedSequence: Int64) throws(EventStoreError) -> ConsumerPosition {
        let operation = "acknowledge \(name) through \(ackedSequence)"
        guard ConsumerPosition.isValidName(name) else {
            throw EventStoreError(
                kind: .invalidArgument, operation: operation, path: path,
                message: "a consumer name is 1 to 128 letters, digits, '_', '-' or '.'")
        }
        guard ackedSequence >= 0 else {
            throw EventStoreError(
                kind: .invalidArgument, operation: operation, path: path,
                message: "a position is a sequence number >= 0")
        }
        return try withConnection(operation) { (connection, queries) throws(EventStoreError) in
            try connection.execute("BEGIN IMMEDIATE", operation: operation)
            do throws(EventStoreError) {
                let range = try queries.range()
                let existing = try Self.read(name, connection)
                let cursor = StoreCursor(storeID: range.storeID, sequence: ackedSequence)
                if let problem = cursor.problem(in: range) {
                    // An existing consumer may acknowledge below what is retained
                    // (a late retry); a new one would be promised events already gone.
                    guard existing != nil, case .expired = problem else {
                        throw EventStoreError(problem, cursor: cursor, range: range, path: path)
                    }
                }
                let now = WallClock.unixMicroseconds()
                let upsert = try connection.prepare(
                    """
                    INSERT INTO consumers (name, acked_seq, created_at_us, updated_at_us) VALUES (?1, ?2, ?3, ?3)
                    ON CONFLICT (name) DO UPDATE SET
                        acked_seq = max(acked_seq, excluded.acked_seq), updated_at_us = excluded.updated_at_us
                    """, operation: operation)
                defer { upsert.finalize() }
                upsert.bind(name, at: 1)
                upsert.bind(ackedSequence, at: 2)
                upsert.bind(now, at: 3)
                try upsert.run(operation)
                let stored = try Self.read(name, connection)!
                try connection.execute("COMMIT", operation: operation)
                return stored
            } catch {
                if !connection.isAutocommit { try? connection.execute("ROLLBACK", operation: operation) }
                throw error
            }
        }
    }

    /// Deletes a consumer (retention stops keeping events for it); true when it existed.
    @discardableResult
    public func remove(_ name: String) throws(EventStoreError) -> Bool {
        try withConnection("delete consumer \(name)") { (connection, _) throws(EventStoreError) in
            let delete = try connection.prepare("DELETE FROM consumers WHERE name = ?1")
            defer { delete.finalize() }
            delete.bind(name, at: 1)
            try delete.run("delete consumer \(name)")
            return connection.changes > 0
        }
    }

    /// Closes the connection. Idempotent; later calls throw `.misuse`.
    public func close() {
        state.withLock { $0 = nil }
    }

    private func withConnection<R: Sendable>(
        _ operation: String, _ body: (SQLiteConnection, StoreQueries) throws(EventStoreError) -> R
    ) throws(EventStoreError) -> R {
        let path = path
        return try state.withLock { (state) throws(EventStoreError) -> R in
            guard let state else { throw .misuse("the consumer registry is closed", operation: operation, path: path) }
            return try body(state.connection, state.queries)
        }
    }

    private static func read(_ name: String, _ connection: SQLiteConnection) throws(EventStoreError)
        -> ConsumerPosition?
    {
        let query = try connection.prepare(
            "SELECT name, acked_seq, created_at_us, updated_at_us, lost_through FROM consumers WHERE name = ?1")
        defer { query.finalize() }
        query.bind(name, at: 1)
        guard try query.step("read consumer \(name)") else { return nil }
        return position(query)
    }

    private static func position(_ row: SQLiteStatement) -> ConsumerPosition {
        ConsumerPosition(
            name: row.text(0) ?? "", ackedSequence: row.int64(1), createdAtMicros: row.int64(2),
            updatedAtMicros: row.int64(3), lostThrough: row.isNull(4) ? nil : row.int64(4))
    }
}

extension EventStoreReader {
    /// Every named consumer, by name (read-only; for status and metrics).
    public func consumers() throws(EventStoreError) -> [ConsumerPosition] {
        try state.withLock { (state) throws(EventStoreError) -> [ConsumerPosition] in
            guard let state else { throw .misuse("the reader is closed", operation: "list consumers", path: path) }
            let query = try state.connection.prepare(
                "SELECT name, acked_seq, created_at_us, updated_at_us, lost_through FROM consumers ORDER BY name")
            defer { query.finalize() }
            var consumers: [ConsumerPosition] = []
            while try query.step("list consumers") {
                consumers.append(
                    ConsumerPosition(
                        name: query.text(0) ?? "", ackedSequence: query.int64(1), createdAtMicros: query.int64(2),
                        updatedAtMicros: query.int64(3), lostThrough: query.isNull(4) ? nil : query.int64(4)))
            }
            return consumers
        }
    }
}
