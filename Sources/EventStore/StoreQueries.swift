// The read queries the writer and the readers share, prepared once per
// connection. Each is a single statement, so it reads one consistent snapshot
// of the store (WAL gives every statement the state as of its start).
//
// Events live in two tables: `events`, one row per event, as versions up to
// schema 5 wrote them, and `event_blocks`, a row per run of events, which is
// all this version writes. A store upgraded from an older version keeps its
// old rows until retention deletes them; every sequence in `events` is below
// every sequence in `event_blocks`, so reading one and then the other is
// reading in order.

import PostgresWire

final class StoreQueries {
    private let path: String
    private let checkpointQuery: SQLiteStatement
    private let metadataQuery: SQLiteStatement
    private let eventsQuery: SQLiteStatement
    private let groupsHoldingLSNQuery: SQLiteStatement
    private let eventInRangeQuery: SQLiteStatement
    private let firstSequenceQuery: SQLiteStatement
    private let connection: SQLiteConnection
    private let blocksTableQuery: SQLiteStatement
    /// Prepared once the store has `event_blocks`: a reader may open a store
    /// an older version wrote before this version's writer has migrated it.
    private var blockQueries: BlockQueries?
    private let pageCountQuery: SQLiteStatement
    /// Where LZ4 blocks are decompressed, reused from block to block.
    private var scratch = BlockScratch()

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
        self.connection = connection
        blocksTableQuery = try connection.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('event_blocks', 'block_frames')")
        pageCountQuery = try connection.prepare(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
    }

    func finalize() {
        for statement in [
            checkpointQuery, metadataQuery, eventsQuery, groupsHoldingLSNQuery, eventInRangeQuery,
            firstSequenceQuery, pageCountQuery, blocksTableQuery,
        ] {
            statement.finalize()
        }
        blockQueries?.finalize()
    }

    /// The block queries; nil while the store has no `event_blocks` table
    /// yet. Prepared again once `block_frames` appears (a reader opened on a
    /// store of schema 8 that a writer then migrates), so blocks that point
    /// at their frame are read with it.
    private func blocks() throws(EventStoreError) -> BlockQueries? {
        if let blockQueries, blockQueries.readsReferencedFrames { return blockQueries }
        defer { blocksTableQuery.reset() }
        var tables: Set<String> = []
        while try blocksTableQuery.step("look for event blocks") { tables.insert(blocksTableQuery.text(0) ?? "") }
        guard tables.contains("event_blocks") else { return nil }
        let withFrames = tables.contains("block_frames")
        if let blockQueries, !withFrames { return blockQueries }
        blocksTableQuery.reset()
        blockQueries?.finalize()
        blockQueries = try BlockQueries(connection, referencedFrames: withFrames)
        return blockQueries
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
        var page = PageBudget(limit: limit, maxBytes: maxBytes)
        var after = sequence
        guard try forEachRowEvent(after: sequence, page: &page, next: &after, visit) else { return }
        try forEachBlockEvent(after: after, page: &page, visit)
    }

    /// The events stored one per row (by versions up to schema 5); false when
    /// the page ended among them.
    private func forEachRowEvent(
        after sequence: Int64, page: inout PageBudget, next: inout Int64,
        _ visit: (Int64, LSN, Int32, UnsafeRawBufferPointer) -> Bool
    ) throws(EventStoreError) -> Bool {
        defer { eventsQuery.reset() }
        eventsQuery.bind(sequence, at: 1)
        eventsQuery.bind(Int64(max(page.limit, 0)), at: 2)
        while try eventsQuery.step("read events after \(sequence)") {
            let more = eventsQuery.withBytes(3) { body in
                guard page.admits(body.count) else { return false }
                next = eventsQuery.int64(0)
                return visit(
                    next, LSN(storedValue: eventsQuery.int64(1)), Int32(truncatingIfNeeded: eventsQuery.int64(2)), body)
            }
            if !more { return false }
        }
        return !page.isFull
    }

    private func forEachBlockEvent(
        after sequence: Int64, page: inout PageBudget, _ visit: (Int64, LSN, Int32, UnsafeRawBufferPointer) -> Bool
    ) throws(EventStoreError) {
        let operation = "read events after \(sequence)"
        guard let blocksQuery = try blocks()?.after else { return }
        defer { blocksQuery.reset() }
        blocksQuery.bind(sequence, at: 1)
        while !page.isFull, try blocksQuery.step(operation) {
            let firstSequence = blocksQuery.int64(0)
            let more = try withFrame(of: blocksQuery, operation: operation) { frame in
                // A cursor may stop mid-block: start at its next event.
                for position in max(0, Int(sequence - firstSequence + 1))..<frame.count {
                    let body = frame.body(position)
                    guard page.admits(body.count) else { return false }
                    let keepGoing = visit(
                        firstSequence + Int64(position), frame.commitLSN(position), frame.ordinal(position), body)
                    if !keepGoing { return false }
                }
                return true
            }
            if !more { return }
        }
    }

    /// Runs `body` with the frame of the block `statement` is on (columns
    /// first_seq, last_seq, codec, raw_bytes, frame, and the referenced
    /// frame or NULL), decompressed when stored
    /// with LZ4. Throws `.corrupt` when the row does not decode to a frame of
    /// last_seq - first_seq + 1 events.
    func withFrame<R>(
        of statement: SQLiteStatement, operation: @autoclosure () -> String, _ body: (EventBlockFrame) -> R
    ) throws(EventStoreError) -> R {
        let first = statement.int64(0)
        let last = statement.int64(1)
        let decoded = statement.withBytes(4) { stored in
            statement.withBytes(5) { referenced in
                StoredBlock.withFrame(
                    codec: statement.int64(2), rawBytes: statement.int64(3), stored: stored,
                    referenced: statement.isNull(5) ? nil : referenced, eventCount: last - first + 1,
                    scratch: &scratch, body)
            }
        }
        guard let decoded else {
            throw EventStoreError(
                kind: .corrupt, operation: operation(), path: path,
                message: "the block of events \(first) to \(last) does not decode (its bytes are damaged)")
        }
        return decoded
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
    /// rows or blocks' indexes. Costs a scan of one group, paid only when a
    /// consumer resumes.
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
            if let found = try blockSequence(
                of: id, from: groupsHoldingLSNQuery.int64(0), through: groupsHoldingLSNQuery.int64(1),
                operation: operation)
            {
                return found
            }
        }
        return nil
    }

    /// The event `id` among the blocks holding sequences `first...last`.
    private func blockSequence(of id: EventID, from first: Int64, through last: Int64, operation: String)
        throws(EventStoreError) -> Int64?
    {
        guard let blocksInRangeQuery = try blocks()?.inRange else { return nil }
        defer { blocksInRangeQuery.reset() }
        blocksInRangeQuery.bind(first, at: 1)
        blocksInRangeQuery.bind(last, at: 2)
        while try blocksInRangeQuery.step(operation) {
            let firstSequence = blocksInRangeQuery.int64(0)
            let position = try withFrame(of: blocksInRangeQuery, operation: operation) { frame in
                (0..<frame.count).first { frame.commitLSN($0) == id.commitLSN && frame.ordinal($0) == id.ordinal }
            }
            if let position { return firstSequence + Int64(position) }
        }
        return nil
    }

    /// The oldest sequence still stored (retention deletes from the front):
    /// in the rows of an older version when any are left, else in the blocks.
    func firstSequence() throws(EventStoreError) -> Int64? {
        defer { firstSequenceQuery.reset() }
        if try firstSequenceQuery.step("read first sequence"), !firstSequenceQuery.isNull(0) {
            return firstSequenceQuery.int64(0)
        }
        guard let firstBlockSequenceQuery = try blocks()?.first else { return nil }
        defer { firstBlockSequenceQuery.reset() }
        guard try firstBlockSequenceQuery.step("read first sequence") else { return nil }
        return firstBlockSequenceQuery.int64(0)
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

/// The queries of `event_blocks`, each giving first_seq, last_seq, codec,
/// raw_bytes, frame and the frame a block points at (NULL when it holds its own).
private final class BlockQueries {
    /// The blocks holding events after ?1, in order.
    let after: SQLiteStatement
    /// The blocks of the group holding sequences ?1...?2: a block never spans
    /// two groups, so theirs are the blocks ending in that range (a range
    /// scan of the key, not of every block after it).
    let inRange: SQLiteStatement
    /// The oldest block's first sequence: the first block by last_seq also has the lowest first_seq.
    let first: SQLiteStatement
    /// False on a store of schema 8, which has no `block_frames` yet.
    let readsReferencedFrames: Bool

    init(_ connection: SQLiteConnection, referencedFrames: Bool) throws(EventStoreError) {
        readsReferencedFrames = referencedFrames
        let columns =
            referencedFrames
            ? """
            b.first_seq, b.last_seq, b.codec, b.raw_bytes, b.frame, f.frame
            FROM event_blocks b LEFT JOIN block_frames f ON f.id = b.frame_id
            """
            : "b.first_seq, b.last_seq, b.codec, b.raw_bytes, b.frame, NULL FROM event_blocks b"
        after = try connection.prepare("SELECT \(columns) WHERE b.last_seq > ?1 ORDER BY b.last_seq")
        inRange = try connection.prepare(
            "SELECT \(columns) WHERE b.last_seq BETWEEN ?1 AND ?2 ORDER BY b.last_seq")
        first = try connection.prepare("SELECT first_seq FROM event_blocks ORDER BY last_seq LIMIT 1")
    }

    func finalize() {
        for statement in [after, inRange, first] { statement.finalize() }
    }
}

/// What is left of a page's caps while it is read.
struct PageBudget {
    let limit: Int
    let maxBytes: Int
    private(set) var visited = 0
    private var bytes = 0

    init(limit: Int, maxBytes: Int) {
        self.limit = max(limit, 0)
        self.maxBytes = maxBytes
    }

    var isFull: Bool { visited >= limit }

    /// Counts an event of `bodyBytes` into the page; false when it does not fit
    /// (the count is reached, or it passes the byte budget and is not the first).
    mutating func admits(_ bodyBytes: Int) -> Bool {
        guard visited < limit else { return false }
        bytes += bodyBytes
        if visited > 0 && bytes > maxBytes { return false }
        visited += 1
        return true
    }
}
