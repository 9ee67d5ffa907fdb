// Deleting the oldest events: the one deletion path, used by `RetentionRunner`
// (which decides how far) and by tests. Whole blocks go; the block the limit
// cuts through is written again with only its later events, so the first
// sequence stays exact. Sequences are never reused: the next
// one comes from the checkpoint row, not from the highest row left. Freed
// pages are reused by later appends, so the file stops growing rather than
// shrinking. Consumers that had not acknowledged what is deleted are marked
// in the same transaction, so a loss is never silent.

import PostgresWire

extension EventStoreWriter {
    /// Deletes every event with a sequence at or below `sequence` (clamped to
    /// `lastSequence`), in a transaction of its own, marks the named consumers
    /// that had not acknowledged them, and returns how many events were
    /// deleted. Not allowed while a group is open.
    @discardableResult
    public func deleteEvents(upTo sequence: Int64) throws(EventStoreError) -> Int64 {
        try deleteEvents(upTo: sequence, nowMicros: WallClock.unixMicroseconds()).deleted
    }

    /// `deleteEvents(upTo:)`, also returning the consumers that lost events for the first time.
    func deleteEvents(upTo sequence: Int64, nowMicros: Int64) throws(EventStoreError) -> (
        deleted: Int64, newlyLost: [String]
    ) {
        let operation = "delete events up to \(sequence)"
        guard !isGroupOpen, connection.isOpen else {
            throw .misuse(isGroupOpen ? "a group is open" : "the writer is closed", operation: operation, path: path)
        }
        let upTo = min(sequence, lastSequence)
        guard upTo > 0 else { return (0, []) }
        try statements.begin.run(operation)
        do throws(EventStoreError) {
            var newlyLost: [String] = []
            let select = statements.selectNewlyLostConsumers
            select.bind(upTo, at: 1)
            while try select.step(operation) { newlyLost.append(select.text(0) ?? "") }
            select.reset()
            statements.markConsumersLost.bind(upTo, at: 1)
            statements.markConsumersLost.bind(nowMicros, at: 2)
            try statements.markConsumersLost.run(operation)
            statements.deleteEvents.bind(upTo, at: 1)
            try statements.deleteEvents.run(operation)
            let deleted = connection.changes + (try deleteBlocks(upTo: upTo, operation: operation))
            statements.deleteGroups.bind(upTo, at: 1)
            try statements.deleteGroups.run(operation)
            try statements.commit.run(operation)
            return (deleted, newlyLost)
        } catch {
            block.removeAll()
            if !connection.isAutocommit { try? statements.rollback.run(operation) }
            throw error
        }
    }

    /// Deletes the blocks at or below `upTo`, cuts the one that holds it, and
    /// returns how many events went.
    private func deleteBlocks(upTo: Int64, operation: String) throws(EventStoreError) -> Int64 {
        let count = statements.countBlockEvents
        count.bind(upTo, at: 1)
        defer { count.reset() }
        var deleted = try count.step(operation) ? count.int64(0) : 0
        statements.deleteBlocks.bind(upTo, at: 1)
        try statements.deleteBlocks.run(operation)

        let select = statements.selectBlockAfter
        select.bind(upTo, at: 1)
        defer { select.reset() }
        guard try select.step(operation), select.int64(0) <= upTo else { return deleted }
        let first = select.int64(0)
        let last = select.int64(1)
        try queries.withFrame(of: select, operation: operation) { frame in
            for position in Int(upTo + 1 - first)..<frame.count {
                block.add(
                    commitLSN: frame.commitLSN(position), ordinal: frame.ordinal(position), body: frame.body(position))
            }
        }
        select.reset()
        try storeBlock(statements.updateBlock, lastSequence: last, operation: operation)
        deleted += upTo - first + 1
        return deleted
    }

    /// The database file's size as SQLite sees it (pages in use and free), without the WAL.
    public func databaseBytes() throws(EventStoreError) -> Int64 {
        try queries.databaseBytes()
    }
}
