// A streamed transaction's events, staged as templates as they arrive
// (EventTemplate.swift) and made the transaction's events at its Stream
// Commit by moving the staged blocks into `event_blocks` as they are: no
// decompression, no decoding or encoding of a single change. Like the staged
// messages, staged templates ride in the open group, so what a group staged
// commits and rolls back with it, and the move commits in the group that
// holds the transaction's commit, with its checkpoint.

import PostgresWire

extension EventStoreWriter {
    /// Stages the event template `template` of the streamed transaction
    /// `xid`, made by subtransaction `subxid` (`xid` for the top level).
    public func stageEvent(
        transaction xid: UInt32, subtransaction subxid: UInt32, template: [UInt8], gaps: TemplateGaps
    ) throws(EventStoreError) {
        try requireGroup("stage a streamed event")
        template.withUnsafeBytes { bytes in
            stagedEvents[xid, default: EventBlockBuilder()].add(
                commitLSN: LSN(UInt64(subxid)), ordinal: gaps.packed, body: bytes)
        }
        if stagedEvents[xid]?.isFull == true { try writeStagedEvents(xid) }
    }

    /// Appends the events `xid` staged to the open group, completed by
    /// `completion`, and drops them from staging; returns how many there were.
    @discardableResult
    public func commitStagedEvents(transaction xid: UInt32, completion: TemplateCompletion) throws(EventStoreError)
        -> Int64
    {
        let operation = "commit the staged events of transaction \(xid)"
        try requireGroup(operation)
        try writeStagedEvents(xid)
        var ordinal = Int64(completion.firstOrdinal)
        do throws(EventStoreError) {
            try flushBlock(operation: operation)
            let select = statements.selectStagedEvents
            var after: Int64 = 0
            while true {
                select.bind(Int64(xid), at: 1)
                select.bind(after, at: 2)
                select.bind(1, at: 3)
                defer { select.reset() }
                guard try select.step(operation) else { break }
                after = select.int64(0)
                let count = select.int64(4)
                guard count > 0, ordinal + count - 1 <= Int64(Int32.max) else {
                    throw EventStoreError(
                        kind: .corrupt, operation: operation, path: path,
                        message: "the staged block at position \(after) holds \(count) events")
                }
                templateRow = completion.header(firstOrdinal: Int32(ordinal))
                select.withBytes(3) { frame in templateRow.append(contentsOf: frame) }
                let bodyBytes = select.int64(5) + completion.addedBytes(firstOrdinal: ordinal, count: count)
                let lastSequence = appended(count: count, bodyBytes: bodyBytes, commitLSN: completion.commitLSN)
                let insert = statements.insertBlock
                insert.bind(lastSequence, at: 1)
                insert.bind(lastSequence - count + 1, at: 2)
                insert.bind(select.int64(1) + StoredBlock.templateCodecOffset, at: 3)
                insert.bind(select.int64(2), at: 4)
                try templateRow.withUnsafeBytes { bytes in
                    Result { () throws(EventStoreError) in
                        insert.bindNoCopy(bytes, at: 5)
                        try insert.run(operation)
                    }
                }.get()
                ordinal += count
            }
            statements.deleteStagedEventsOfTransaction.bind(Int64(xid), at: 1)
            try statements.deleteStagedEventsOfTransaction.run(operation)
        } catch {
            rollbackGroup()
            throw error
        }
        stagedEvents[xid] = nil
        return ordinal - Int64(completion.firstOrdinal)
    }

    /// Writes every transaction's gathered templates, before the group commits.
    func writeAllStagedEvents() throws(EventStoreError) {
        for xid in stagedEvents.keys.sorted() { try writeStagedEvents(xid) }
    }

    /// Drops what `xid` staged as templates, or only `subxid`'s part.
    func discardStagedEvents(transaction xid: UInt32, subtransaction subxid: UInt32?) throws(EventStoreError) {
        guard let subxid, subxid != xid else {
            stagedEvents[xid] = nil
            statements.deleteStagedEventsOfTransaction.bind(Int64(xid), at: 1)
            try statements.deleteStagedEventsOfTransaction.run("discard staged events of transaction \(xid)")
            return
        }
        let operation = "discard staged events of subtransaction \(subxid)"
        let tag = LSN(UInt64(subxid))
        if let gathered = stagedEvents.removeValue(forKey: xid) {
            var kept = EventBlockBuilder()
            gathered.forEachEntry { lsn, gaps, body in
                if lsn != tag { kept.add(commitLSN: lsn, ordinal: gaps, body: body) }
            }
            stagedEvents[xid] = kept
        }
        let select = statements.selectStagedEvents
        var after: Int64 = 0
        while true {
            select.bind(Int64(xid), at: 1)
            select.bind(after, at: 2)
            select.bind(1, at: 3)
            defer { select.reset() }
            guard try select.step(operation) else { return }
            let position = select.int64(0)
            var kept = EventBlockBuilder()
            var dropped = false
            let decoded = select.withBytes(3) { stored in
                StoredBlock.withFrame(
                    codec: select.int64(1), rawBytes: select.int64(2), stored: stored, eventCount: select.int64(4),
                    scratch: &scratch
                ) { frame in
                    for entry in 0..<frame.count {
                        if frame.commitLSN(entry) == tag {
                            dropped = true
                        } else {
                            kept.add(
                                commitLSN: frame.commitLSN(entry), ordinal: frame.ordinal(entry),
                                body: frame.body(entry))
                        }
                    }
                }
            }
            guard decoded != nil else {
                throw EventStoreError(
                    kind: .corrupt, operation: operation, path: path,
                    message: "the staged block at position \(position) does not decode (its bytes are damaged)")
            }
            select.reset()
            after = position
            guard dropped else { continue }
            if kept.isEmpty {
                statements.deleteStagedEventsBlock.bind(position, at: 1)
                try statements.deleteStagedEventsBlock.run(operation)
            } else {
                let update = statements.updateStagedEvents
                update.bind(position, at: 1)
                update.bind(Int64(kept.count), at: 2)
                update.bind(Int64(kept.bodies.count), at: 3)
                try run(update, withFrameOf: &kept, parametersFrom: 4, operation: operation)
            }
        }
    }

    /// Writes what `xid` has gathered as one staged block of templates.
    private func writeStagedEvents(_ xid: UInt32) throws(EventStoreError) {
        guard var builder = stagedEvents.removeValue(forKey: xid), !builder.isEmpty else { return }
        defer { stagedEvents[xid] = builder }
        let insert = statements.insertStagedEvents
        insert.bind(Int64(xid), at: 1)
        insert.bind(Int64(builder.count), at: 2)
        insert.bind(Int64(builder.bodies.count), at: 3)
        do {
            try run(insert, withFrameOf: &builder, parametersFrom: 4, operation: "stage events of transaction \(xid)")
        } catch {
            // The gathered templates are gone: the group must not commit without them.
            rollbackGroup()
            throw error
        }
    }
}
