// A streamed transaction's events, staged as templates as they arrive
// (EventTemplate.swift, through the staging of EventStoreWriter+Staging.swift)
// and made the transaction's events at its Stream Commit by reference: each
// staged block becomes an `event_blocks` row that holds only the header
// completing its templates and points at the staged frame, which stays where
// staging wrote it. So the commit writes a small row per block whatever the
// transaction's size, and copies no frame (docs/STORE.md has the figures).
// The move commits in the group that holds the transaction's commit, with
// its checkpoint: after a crash the blocks point at their frames and nothing
// is staged any more, or the staged rows are there as they were.

import PostgresWire

extension EventStoreWriter {
    /// Stages the event template `template` of the streamed transaction
    /// `xid`, made by subtransaction `subxid` (`xid` for the top level).
    public func stageEvent(
        transaction xid: UInt32, subtransaction subxid: UInt32, template: [UInt8], gaps: TemplateGaps
    ) throws(EventStoreError) {
        try template.withUnsafeBytes { bytes in
            Result { () throws(EventStoreError) in
                try gather(
                    StagedKey(transaction: xid, kind: .templates), subtransaction: subxid, ordinal: gaps.packed,
                    body: bytes)
            }
        }.get()
    }

    /// Appends the events `xid` staged to the open group, completed by
    /// `completion`, and drops them from staging; returns how many there were.
    @discardableResult
    public func commitStagedEvents(transaction xid: UInt32, completion: TemplateCompletion) throws(EventStoreError)
        -> Int64
    {
        let operation = "commit the staged events of transaction \(xid)"
        try requireGroup(operation)
        let key = StagedKey(transaction: xid, kind: .templates)
        try writeStaged(key)
        var ordinal = Int64(completion.firstOrdinal)
        do throws(EventStoreError) {
            try flushBlock(operation: operation)
            var after: Int64 = 0
            while let blocks = try stagedBlockSizes(key, after: after, operation: operation) {
                for block in blocks {
                    guard block.eventCount > 0, ordinal + block.eventCount - 1 <= Int64(Int32.max) else {
                        throw EventStoreError(
                            kind: .corrupt, operation: operation, path: path,
                            message: "the staged block \(block.frameID) holds \(block.eventCount) events")
                    }
                    let bodyBytes =
                        block.bodyBytes + completion.addedBytes(firstOrdinal: ordinal, count: block.eventCount)
                    let lastSequence = appended(
                        count: block.eventCount, bodyBytes: bodyBytes, commitLSN: completion.commitLSN)
                    let header = completion.header(firstOrdinal: Int32(ordinal))
                    let insert = statements.insertReferencedBlock
                    insert.bind(lastSequence, at: 1)
                    insert.bind(lastSequence - block.eventCount + 1, at: 2)
                    insert.bind(block.codec + StoredBlock.templateCodecOffset, at: 3)
                    insert.bind(block.rawBytes, at: 4)
                    insert.bind(block.frameID, at: 6)
                    try header.withUnsafeBytes { bytes in
                        Result { () throws(EventStoreError) in
                            insert.bindNoCopy(bytes, at: 5)
                            try insert.run(operation)
                        }
                    }.get()
                    ordinal += block.eventCount
                    after = block.frameID
                }
            }
            // The frames now belong to event_blocks: only the staged rows go.
            statements.deleteStagedOfKind.bind(Int64(xid), at: 1)
            statements.deleteStagedOfKind.bind(StagedKind.templates.rawValue, at: 2)
            try statements.deleteStagedOfKind.run(operation)
        } catch {
            rollbackGroup()
            throw error
        }
        staging[key] = nil
        return ordinal - Int64(completion.firstOrdinal)
    }

    /// What the move needs of one staged template block: not its frame.
    private struct StagedBlockSize {
        let frameID: Int64
        let codec: Int64
        let rawBytes: Int64
        let eventCount: Int64
        let bodyBytes: Int64
    }

    /// The next staged blocks of `key` after frame id `after`, a batch at a
    /// time (the inserts run with no statement open on `staged`); nil when
    /// there are none.
    private func stagedBlockSizes(_ key: StagedKey, after: Int64, operation: String) throws(EventStoreError)
        -> [StagedBlockSize]?
    {
        let select = statements.selectStagedSizes
        select.bind(Int64(key.transaction), at: 1)
        select.bind(key.kind.rawValue, at: 2)
        select.bind(after, at: 3)
        select.bind(1_024, at: 4)
        defer { select.reset() }
        var blocks: [StagedBlockSize] = []
        while try select.step(operation) {
            blocks.append(
                StagedBlockSize(
                    frameID: select.int64(0), codec: select.int64(1), rawBytes: select.int64(2),
                    eventCount: select.int64(3), bodyBytes: select.int64(4)))
        }
        return blocks.isEmpty ? nil : blocks
    }
}
