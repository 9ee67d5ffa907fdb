// Reading with a cursor: the checks that turn a stale cursor into a clear
// error instead of an empty page or a silent gap (issue: cursors that lie).
// The store's id, its range and the events are read in one read transaction,
// so the checks and the page describe the same state of the store.

extension EventStoreReader {
    /// The store's id; nil only for a store an older version created that no
    /// writer of this version has opened yet.
    public func storeID() throws(EventStoreError) -> StoreID? {
        try withQueries("read store id") { (queries) throws(EventStoreError) in try queries.storeID() }
    }

    /// The store's id and the range of sequences it can serve.
    public func range() throws(EventStoreError) -> StoreRange {
        try withQueries("read store range") { (queries) throws(EventStoreError) in try queries.range() }
    }

    /// Checks that every event after `cursor` can be served (for a stream that
    /// must refuse a cursor before it starts) and returns the store's range.
    /// Throws `.cursorOfOtherStore`, `.cursorBeyondEnd` or `.cursorExpired`.
    @discardableResult
    public func check(_ cursor: StoreCursor) throws(EventStoreError) -> StoreRange {
        let range = try range()
        if let problem = cursor.problem(in: range) {
            throw EventStoreError(problem, cursor: cursor, range: range, path: path)
        }
        return range
    }

    /// The events after `cursor`: at most `limit` of them and `maxBytes` of
    /// bodies, but at least one when there is one. A cursor of another store,
    /// beyond the end, or older than the oldest retained event throws
    /// (`.cursorOfOtherStore`, `.cursorBeyondEnd`, `.cursorExpired`) rather
    /// than answer with an empty or partial page.
    public func page(
        after cursor: StoreCursor, limit: Int, maxBytes: Int = PageLimits.defaultMaxBytes
    ) throws(EventStoreError) -> EventPage {
        let path = path
        return try state.withLock { (state) throws(EventStoreError) -> EventPage in
            guard let state else { throw .misuse("the reader is closed", operation: "read events", path: path) }
            try state.connection.execute("BEGIN", operation: "read events")
            defer { try? state.connection.execute("COMMIT", operation: "read events") }
            let range = try state.queries.range()
            if let problem = cursor.problem(in: range) {
                throw EventStoreError(problem, cursor: cursor, range: range, path: path)
            }
            let events = try state.queries.events(after: cursor.sequence, limit: limit, maxBytes: maxBytes)
            return EventPage(
                events: events, storeID: range.storeID, nextAfter: events.last?.sequence ?? cursor.sequence,
                lastSequence: range.lastSequence)
        }
    }
}
