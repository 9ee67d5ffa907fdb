// Retention (DESIGN §6): dropping the oldest events by age or by size. The
// policy (how old, how big, how often) belongs to the pipeline; the store
// answers "up to which sequence" from the small `groups` table and deletes.
// Sequences are never reused: the next one comes from the checkpoint row, not
// from the highest row left. Freed pages are reused by later appends, so the
// file stops growing rather than shrinking.

extension EventStoreWriter {
    /// Deletes every event with a sequence at or below `sequence` (clamped to
    /// `lastSequence`), in a transaction of its own, and returns how many were
    /// deleted. Not allowed while a group is open.
    @discardableResult
    public func deleteEvents(upTo sequence: Int64) throws(EventStoreError) -> Int64 {
        let operation = "delete events up to \(sequence)"
        guard !isGroupOpen, connection.isOpen else {
            throw .misuse(isGroupOpen ? "a group is open" : "the writer is closed", operation: operation, path: path)
        }
        let upTo = min(sequence, lastSequence)
        guard upTo > 0 else { return 0 }
        try statements.begin.run(operation)
        do {
            statements.deleteEvents.bind(upTo, at: 1)
            try statements.deleteEvents.run(operation)
            let deleted = connection.changes
            statements.deleteGroups.bind(upTo, at: 1)
            try statements.deleteGroups.run(operation)
            try statements.commit.run(operation)
            return deleted
        } catch {
            if !connection.isAutocommit { try? statements.rollback.run(operation) }
            throw error
        }
    }

    /// The highest sequence of the groups committed before `unixMicros`: delete
    /// up to it to keep only newer events. Nil when no group is that old.
    public func retentionCutoff(committedBefore unixMicros: Int64) throws(EventStoreError) -> Int64? {
        try singleInteger(
            "SELECT max(last_seq) FROM groups WHERE committed_at_us < ?1", unixMicros,
            operation: "find events older than \(unixMicros)")
    }

    /// The highest sequence to delete so the events kept total at most
    /// `maxBytes` of bodies (counted in whole groups, newest first). Nil when
    /// everything fits.
    public func retentionCutoff(keepingAtMostBytes maxBytes: Int64) throws(EventStoreError) -> Int64? {
        try singleInteger(
            """
            SELECT max(last_seq) FROM (
                SELECT last_seq, sum(body_bytes) OVER (ORDER BY last_seq DESC) AS newer_bytes FROM groups
            ) WHERE newer_bytes > ?1
            """,
            maxBytes, operation: "find events beyond \(maxBytes) bytes")
    }

    /// The database file's size as SQLite sees it (pages in use and free), without the WAL.
    public func databaseBytes() throws(EventStoreError) -> Int64 {
        try queries.databaseBytes()
    }

    private func singleInteger(_ sql: String, _ parameter: Int64, operation: String) throws(EventStoreError) -> Int64? {
        let statement = try connection.prepare(sql, operation: operation)
        defer { statement.finalize() }
        statement.bind(parameter, at: 1)
        guard try statement.step(operation), !statement.isNull(0) else { return nil }
        return statement.int64(0)
    }
}
