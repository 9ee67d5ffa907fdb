// A read-only view of a store for consumers: the CLI's `events`, the REST API,
// tests. Each reader has its own SQLite connection; WAL lets it read while the
// pipeline's writer commits, and it only ever sees committed groups, never
// part of one.

import PostgresWire
import Synchronization

/// Reads a pipeline's event store.
///
/// `Sendable`: calls from different threads or tasks are serialized on the
/// reader's connection. Each call is short and blocking (a few page reads);
/// open one reader per concurrent consumer when they should not wait for each
/// other. Each call sees the store as of its own start.
public final class EventStoreReader: Sendable {
    /// The database file.
    public let path: String
    let state: Mutex<OpenState?>

    /// An open connection and its prepared queries; `EventStoreConsumers`
    /// holds one the same way. Unchecked because it is only ever touched
    /// inside its owner's lock, which is what makes the owner safe to share;
    /// being Sendable lets a caller's closure run against it without
    /// region-isolation objections.
    final class OpenState: @unchecked Sendable {
        let connection: SQLiteConnection
        let queries: StoreQueries

        init(connection: SQLiteConnection, queries: StoreQueries) {
            self.connection = connection
            self.queries = queries
        }

        deinit {
            queries.finalize()
            connection.close()
        }
    }

    /// Opens an existing store read-only. Fails with `.notFound` when there is
    /// no file at `path` (a reader never creates one) and `.notAnEventStore`
    /// when the file is not a store.
    public init(path: String) throws(EventStoreError) {
        self.path = path
        guard FileSystem.exists(path) else {
            throw EventStoreError(
                kind: .notFound, operation: "open for reading", path: path,
                message: "no event store file exists at this path")
        }
        let connection = try SQLiteConnection(path: path, mode: .readOnly)
        try connection.execute("PRAGMA busy_timeout = 5000", operation: "configure")
        try Schema.check(connection, allowEmpty: false)
        let queries = try StoreQueries(connection)
        state = Mutex(OpenState(connection: connection, queries: queries))
    }

    func withQueries<R: Sendable>(
        _ operation: String, _ body: (StoreQueries) throws(EventStoreError) -> R
    ) throws(EventStoreError) -> R {
        try state.withLock { (state) throws(EventStoreError) -> R in
            guard let state else { throw .misuse("the reader is closed", operation: operation, path: path) }
            return try body(state.queries)
        }
    }

    /// Runs `body` on the reader's connection, for queries beside `StoreQueries`'.
    func withConnection<R: Sendable>(
        _ operation: String, _ body: (SQLiteConnection) throws(EventStoreError) -> R
    ) throws(EventStoreError) -> R {
        try state.withLock { (state) throws(EventStoreError) -> R in
            guard let state else { throw .misuse("the reader is closed", operation: operation, path: path) }
            return try body(state.connection)
        }
    }

    /// Up to `limit` events with a sequence above `sequence`, in order, and at
    /// most `maxBytes` of bodies (but at least one event). Start with 0;
    /// continue from the last sequence returned. Unchecked: a sequence beyond
    /// the end or before the oldest retained event reads as fewer events;
    /// consumers holding a cursor use `page(after:limit:maxBytes:)`.
    public func events(
        after sequence: Int64, limit: Int, maxBytes: Int = PageLimits.defaultMaxBytes
    ) throws(EventStoreError) -> [StoredEvent] {
        try withQueries("read events") { (queries) throws(EventStoreError) in
            try queries.events(after: sequence, limit: limit, maxBytes: maxBytes)
        }
    }

    /// Calls `visit` with up to `limit` events after `sequence` (and at most
    /// `maxBytes` of bodies, at least one event), in order, until it returns
    /// false, lending each body without copying it (for streaming to a socket
    /// or file). The pointer is valid only during the call. The reader is
    /// locked until this returns, so `visit` must not call it.
    public func forEachEvent(
        after sequence: Int64, limit: Int, maxBytes: Int = PageLimits.defaultMaxBytes,
        _ visit: (_ sequence: Int64, _ commitLSN: LSN, _ ordinal: Int32, _ body: UnsafeRawBufferPointer) -> Bool
    ) throws(EventStoreError) {
        try state.withLock { (state) throws(EventStoreError) in
            guard let state else { throw .misuse("the reader is closed", operation: "read events", path: path) }
            try state.queries.forEachEvent(after: sequence, limit: limit, maxBytes: maxBytes, visit)
        }
    }

    /// The highest sequence committed, 0 when nothing was. Retention never lowers it.
    public func lastSequence() throws(EventStoreError) -> Int64 {
        try withQueries("read last sequence") { (queries) throws(EventStoreError) in
            try queries.checkpoint()?.lastSequence ?? 0
        }
    }

    /// The oldest sequence still stored, nil when the store holds no events. A
    /// cursor below `firstSequence - 1` has missed events that retention deleted.
    public func firstSequence() throws(EventStoreError) -> Int64? {
        try withQueries("read first sequence") { (queries) throws(EventStoreError) in try queries.firstSequence() }
    }

    /// The durable checkpoint, nil when the pipeline has not committed one yet.
    public func checkpoint() throws(EventStoreError) -> Checkpoint? {
        try withQueries("read checkpoint") { (queries) throws(EventStoreError) in try queries.checkpoint()?.checkpoint }
    }

    /// A metadata value, nil when unset.
    public func metadata(_ key: String) throws(EventStoreError) -> String? {
        try withQueries("read metadata") { (queries) throws(EventStoreError) in try queries.metadata(key) }
    }

    /// The sequence of the event with id `X/Y:N`, nil when no such event is
    /// stored (never was, or retention deleted it). Throws `.invalidArgument`
    /// when `id` is not an event id.
    public func sequence(ofEventID id: String) throws(EventStoreError) -> Int64? {
        guard let parsed = EventID(id) else {
            throw EventStoreError(
                kind: .invalidArgument, operation: "find event", path: path,
                message: "'\(id)' is not an event id of the form <commit LSN>:<ordinal>, such as 0/16B3748:3")
        }
        return try sequence(of: parsed)
    }

    /// The sequence of the event `id`, nil when no such event is stored.
    public func sequence(of id: EventID) throws(EventStoreError) -> Int64? {
        try withQueries("find event") { (queries) throws(EventStoreError) in try queries.sequence(of: id) }
    }

    /// The database file's size as SQLite sees it (pages in use and free), without the WAL.
    public func databaseBytes() throws(EventStoreError) -> Int64 {
        try withQueries("read size") { (queries) throws(EventStoreError) in try queries.databaseBytes() }
    }

    /// Closes the connection. Idempotent; later calls throw `.misuse`.
    public func close() {
        state.withLock { $0 = nil }
    }
}
