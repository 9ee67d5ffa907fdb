// Staging for streamed transactions (DESIGN §4 invariant 6): the messages of
// a transaction Postgres streams before it commits are kept here, on disk,
// not in memory, until its Stream Commit turns them into events or its
// Stream Abort drops them. Staged blocks ride in the open group, so they need
// no transaction of their own.
//
// Messages are gathered per transaction into blocks (the event blocks' frame,
// with the subtransaction id in the commit LSN's place), written when a block
// is full and, for the rest, when the group commits: so what a group staged is
// in the file when it commits, and gone with it when it rolls back, as with a
// row per message, at a fraction of the cost per message (docs/STORE.md).

import PostgresWire

extension EventStoreWriter {
    /// Stages one message of the streamed transaction `xid`, made by
    /// subtransaction `subxid` (equal to `xid` for the top level).
    public func stage(transaction xid: UInt32, subtransaction subxid: UInt32, message: ArraySlice<UInt8>)
        throws(EventStoreError)
    {
        try requireGroup("stage a streamed change")
        message.withUnsafeBytes { bytes in
            staging[xid, default: EventBlockBuilder()].add(
                commitLSN: LSN(UInt64(subxid)), ordinal: 0, body: bytes)
        }
        if staging[xid]?.isFull == true { try writeStaged(xid) }
    }

    /// Visits the staged messages of `xid` in arrival order, a few blocks at a
    /// time, so a transaction of any size is read in bounded memory.
    public func forEachStaged(
        transaction xid: UInt32, _ visit: ([UInt8]) throws -> Void
    ) throws {
        try writeStaged(xid)
        let select = statements.selectStagedBlocks
        var after: Int64 = 0
        while true {
            var messages: [[UInt8]] = []
            var last: Int64?
            select.bind(Int64(xid), at: 1)
            select.bind(after, at: 2)
            select.bind(16, at: 3)
            defer { select.reset() }
            while try select.step("read staged changes of transaction \(xid)") {
                last = select.int64(0)
                try withStagedFrame(of: select) { frame in
                    for position in 0..<frame.count { messages.append(Array(frame.body(position))) }
                }
            }
            guard let last else { return }
            select.reset()
            for message in messages { try visit(message) }
            after = last
        }
    }

    /// Drops what a transaction staged, or only one aborted subtransaction's part.
    public func discardStaged(transaction xid: UInt32, subtransaction subxid: UInt32? = nil) throws(EventStoreError) {
        try requireGroup("discard staged changes")
        if let subxid, subxid != xid {
            do {
                try discardStaged(transaction: xid, onlySubtransaction: subxid)
                try discardStagedEvents(transaction: xid, subtransaction: subxid)
            } catch {
                // Blocks may be half rewritten: the group must not commit.
                rollbackGroup()
                throw error
            }
        } else {
            staging[xid] = nil
            let operation = "discard staged changes of transaction \(xid)"
            statements.deleteStagedBlocksOfTransaction.bind(Int64(xid), at: 1)
            try statements.deleteStagedBlocksOfTransaction.run(operation)
            statements.deleteStagedTransaction.bind(Int64(xid), at: 1)
            try statements.deleteStagedTransaction.run(operation)
            try discardStagedEvents(transaction: xid, subtransaction: nil)
        }
    }

    /// Drops everything staged: at the start of a session, since Postgres
    /// streams every unfinished transaction again from its beginning.
    public func discardAllStaged() throws(EventStoreError) {
        let alreadyOpen = isGroupOpen
        if !alreadyOpen { try beginGroup() }
        staging.removeAll()
        stagedEvents.removeAll()
        do {
            try statements.deleteAllStagedEvents.run("discard all staged changes")
            try statements.deleteAllStagedBlocks.run("discard all staged changes")
            try statements.deleteAllStaged.run("discard all staged changes")
        } catch {
            rollbackGroup()
            throw error
        }
        if !alreadyOpen, let checkpoint {
            try commitGroup(checkpoint: checkpoint)
        } else if !alreadyOpen {
            rollbackGroup()
        }
    }

    func requireGroup(_ operation: String) throws(EventStoreError) {
        guard isGroupOpen else { throw .misuse("\(operation) needs an open group", operation: operation, path: path) }
    }

    /// Writes every transaction's gathered messages, before the group commits.
    func writeAllStaged() throws(EventStoreError) {
        for xid in staging.keys.sorted() { try writeStaged(xid) }
    }

    /// Writes what `xid` has gathered as one staged block.
    private func writeStaged(_ xid: UInt32) throws(EventStoreError) {
        guard var builder = staging.removeValue(forKey: xid), !builder.isEmpty else { return }
        // Put the (emptied) builder back whatever happens, to reuse its buffers.
        defer { staging[xid] = builder }
        let insert = statements.insertStagedBlock
        insert.bind(Int64(xid), at: 1)
        do {
            try run(insert, withFrameOf: &builder, parametersFrom: 2, operation: "stage changes of transaction \(xid)")
        } catch {
            // The gathered messages are gone: the group must not commit without them.
            rollbackGroup()
            throw error
        }
    }

    /// Rewrites `xid`'s blocks without the messages of `subxid`, one block at
    /// a time, dropping blocks left empty.
    private func discardStaged(transaction xid: UInt32, onlySubtransaction subxid: UInt32) throws(EventStoreError) {
        let operation = "discard staged changes of subtransaction \(subxid)"
        let tag = LSN(UInt64(subxid))
        statements.deleteStagedSubtransaction.bind(Int64(xid), at: 1)
        statements.deleteStagedSubtransaction.bind(Int64(subxid), at: 2)
        try statements.deleteStagedSubtransaction.run(operation)
        if let gathered = staging.removeValue(forKey: xid) {
            var kept = EventBlockBuilder()
            gathered.forEachEntry { lsn, ordinal, body in
                if lsn != tag { kept.add(commitLSN: lsn, ordinal: ordinal, body: body) }
            }
            staging[xid] = kept
        }
        let select = statements.selectStagedBlocks
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
            try withStagedFrame(of: select) { frame in
                for entry in 0..<frame.count {
                    if frame.commitLSN(entry) == tag {
                        dropped = true
                    } else {
                        kept.add(commitLSN: frame.commitLSN(entry), ordinal: 0, body: frame.body(entry))
                    }
                }
            }
            select.reset()
            after = position
            guard dropped else { continue }
            if kept.isEmpty {
                statements.deleteStagedBlock.bind(position, at: 1)
                try statements.deleteStagedBlock.run(operation)
            } else {
                statements.updateStagedBlock.bind(position, at: 1)
                try run(statements.updateStagedBlock, withFrameOf: &kept, parametersFrom: 2, operation: operation)
            }
        }
    }

    /// Runs `body` with the frame of the staged block `statement` is on
    /// (columns position, codec, raw_bytes, frame).
    private func withStagedFrame(of statement: SQLiteStatement, _ body: (EventBlockFrame) -> Void)
        throws(EventStoreError)
    {
        let decoded = statement.withBytes(3) { stored in
            StoredBlock.withFrame(
                codec: statement.int64(1), rawBytes: statement.int64(2), stored: stored, eventCount: nil,
                scratch: &scratch, body)
        }
        guard decoded != nil else {
            throw EventStoreError(
                kind: .corrupt, operation: "read staged changes", path: path,
                message: "the staged block at position \(statement.int64(0)) does not decode (its bytes are damaged)")
        }
    }
}
