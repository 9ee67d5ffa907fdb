// The read queries the writer and the readers share, prepared once per
// connection. Each is a single statement, so it reads one consistent snapshot
// of the store (WAL gives every statement the state as of its start).

import PostgresWire

final class StoreQueries {
    private let path: String
    private let checkpointQuery: SQLiteStatement
    private let metadataQuery: SQLiteStatement
    private let eventsQuery: SQLiteStatement
    private let groupsHoldingLSNQuery: SQLiteStatement
    private let eventInRangeQuery: SQLiteStatement
    private let firstSequenceQuery: SQLiteStatement
    private let pageCountQuery: SQLiteStatement

    init(_ connection: SQLiteConnection) throws(EventStoreError) {
        path = connection.path
        checkpointQuery = try connection.prepare(
            "SELECT last_commit_lsn, flush_lsn, last_seq FROM checkpoint WHERE id = 1")
        metadataQuery = try connection.prepare("SELECT value FROM metadata WHERE key = ?1")
        eventsQuery = try connection.prepare(
            "SELECT seq, commit_lsn, ordinal, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        groupsHoldingLSNQuery = try connection.prepare(
            """
            SELECT first_seq, last_seq FROM groups
            WHERE max_commit_lsn >= ?1 AND min_commit_lsn <= ?1 ORDER BY max_commit_lsn
            """)
        eventInRangeQuery = try connection.prepare(
            "SELECT seq FROM events WHERE seq BETWEEN ?1 AND ?2 AND commit_lsn = ?3 AND ordinal = ?4 LIMIT 1")
        firstSequenceQuery = try connection.prepare("SELECT min(seq) FROM events")
        pageCountQuery = try connection.prepare(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
    }

    func finalize() {
        for statement in [
            checkpointQuery, metadataQuery, eventsQuery, groupsHoldingLSNQuery, eventInRangeQuery,
            firstSequenceQuery, pageCountQuery,
        ] {
            statement.finalize()
        }
    }

    /// The checkpoint and the highest sequence ever assigned; nil for a store
    /// that has never committed anything.
    func checkpoint() throws(EventStoreError) -> (checkpoint: Checkpoint, lastSequence: Int64)? {
        defer { checkpointQuery.reset() }
        guard try checkpointQuery.step("read checkpoint") else { return nil }
        let checkpoint = Checkpoint(
            lastCommitLSN: LSN(storedValue: checkpointQuery.int64(0)),
            flushLSN: LSN(storedValue: checkpointQuery.int64(1)))
        return (checkpoint, checkpointQuery.int64(2))
    }

    func metadata(_ key: String) throws(EventStoreError) -> String? {
        defer { metadataQuery.reset() }
        metadataQuery.bind(key, at: 1)
        guard try metadataQuery.step("read metadata \(key)") else { return nil }
        return metadataQuery.text(0)
    }

    /// Calls `visit` with each event after `sequence`, in order, at most `limit`
    /// of them and at most `maxBytes` of bodies (but always the first one),
    /// until it returns false. The body pointer is valid only during the call.
    func forEachEvent(
        after sequence: Int64, limit: Int, maxBytes: Int,
        _ visit: (_ sequence: Int64, _ commitLSN: LSN, _ ordinal: Int32, _ body: UnsafeRawBufferPointer) -> Bool
    ) throws(EventStoreError) {
        defer { eventsQuery.reset() }
        eventsQuery.bind(sequence, at: 1)
        eventsQuery.bind(Int64(max(limit, 0)), at: 2)
        var bytes = 0
        var visited = 0
        while try eventsQuery.step("read events after \(sequence)") {
            let more = eventsQuery.withBytes(3) { body in
                bytes += body.count
                // The event that passes the budget starts the next page, unless it is the first.
                if visited > 0 && bytes > maxBytes { return false }
                visited += 1
                return visit(
                    eventsQuery.int64(0), LSN(storedValue: eventsQuery.int64(1)),
                    Int32(truncatingIfNeeded: eventsQuery.int64(2)), body)
            }
            if !more { return }
        }
    }

    func events(after sequence: Int64, limit: Int, maxBytes: Int) throws(EventStoreError) -> [StoredEvent] {
        var events: [StoredEvent] = []
        events.reserveCapacity(min(max(limit, 0), 1_024))
        try forEachEvent(after: sequence, limit: limit, maxBytes: maxBytes) { sequence, lsn, ordinal, body in
            events.append(StoredEvent(sequence: sequence, commitLSN: lsn, ordinal: ordinal, body: Array(body)))
            return true
        }
        return events
    }

    /// Finds an event by id without a per-event index: the groups whose commit
    /// LSN range holds the id's LSN (usually exactly one), then those groups'
    /// rows. Costs a scan of one group, paid only when a consumer resumes.
    func sequence(of id: EventID) throws(EventStoreError) -> Int64? {
        let operation = "find event \(id)"
        defer { groupsHoldingLSNQuery.reset() }
        groupsHoldingLSNQuery.bind(id.commitLSN.storedValue, at: 1)
        while try groupsHoldingLSNQuery.step(operation) {
            defer { eventInRangeQuery.reset() }
            eventInRangeQuery.bind(groupsHoldingLSNQuery.int64(0), at: 1)
            eventInRangeQuery.bind(groupsHoldingLSNQuery.int64(1), at: 2)
            eventInRangeQuery.bind(id.commitLSN.storedValue, at: 3)
            eventInRangeQuery.bind(Int64(id.ordinal), at: 4)
            if try eventInRangeQuery.step(operation) { return eventInRangeQuery.int64(0) }
        }
        return nil
    }

    /// The oldest sequence still stored (retention deletes from the front).
    func firstSequence() throws(EventStoreError) -> Int64? {
        defer { firstSequenceQuery.reset() }
        guard try firstSequenceQuery.step("read first sequence"), !firstSequenceQuery.isNull(0) else { return nil }
        return firstSequenceQuery.int64(0)
    }

    /// The store's id, nil for a store an older version created that no
    /// writer of this version has opened yet.
    func storeID() throws(EventStoreError) -> StoreID? {
        try metadata(StoreID.metadataKey).flatMap { StoreID($0) }
    }

    /// The store's id and range, for checking a cursor. Call inside a read
    /// transaction when the answer must match the events read next.
    func range() throws(EventStoreError) -> StoreRange {
        StoreRange(
            storeID: try storeID(), firstSequence: try firstSequence(),
            lastSequence: try checkpoint()?.lastSequence ?? 0)
    }

    /// The database file's size as SQLite sees it (pages in use and free), without the WAL.
    func databaseBytes() throws(EventStoreError) -> Int64 {
        defer { pageCountQuery.reset() }
        guard try pageCountQuery.step("read database size") else { return 0 }
        return pageCountQuery.int64(0)
    }
}

extension LSN {
    /// LSNs are stored as SQLite INTEGERs (signed 64-bit) holding the same bit
    /// pattern; real LSNs stay far below 2^63, so they also sort correctly.
    init(storedValue: Int64) { self.init(UInt64(bitPattern: storedValue)) }

    var storedValue: Int64 { Int64(bitPattern: rawValue) }
}
