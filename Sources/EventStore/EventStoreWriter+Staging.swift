// Staging for streamed transactions (DESIGN §4 invariant 6): what a
// transaction Postgres streams before it commits is kept here, on disk, not
// in memory, until its Stream Commit turns it into events or its Stream Abort
// drops it. One mechanism for both kinds of staged data (`StagedKind`): the
// raw messages and the event templates encoded on arrival.
//
// Each kind is gathered per transaction into blocks (the event blocks' frame,
// with the subtransaction id in the commit LSN's place), written as a row of
// `block_frames` plus its row of `staged` when a block is full and, for the
// rest, when the group commits. Staged rows ride in the open group, so what a
// group staged commits and rolls back with it, and a kill -9 leaves either
// both rows or neither. Stream Commit hands template frames over to
// `event_blocks` by reference (EventStoreWriter+StagedEvents.swift).

import PostgresWire

/// What a staged block holds; the `kind` column of `staged`.
enum StagedKind: Int64 {
    /// The streamed messages as they arrived, replayed at commit when the
    /// events encoded on arrival cannot be used.
    case messages = 0
    /// Event templates (EventTemplate.swift); the index entry's ordinal holds the gaps.
    case templates = 1
}

/// One transaction's staged blocks of one kind.
struct StagedKey: Hashable {
    let transaction: UInt32
    let kind: StagedKind
}

extension EventStoreWriter {
    /// Stages one message of the streamed transaction `xid`, made by
    /// subtransaction `subxid` (equal to `xid` for the top level).
    public func stage(transaction xid: UInt32, subtransaction subxid: UInt32, message: ArraySlice<UInt8>)
        throws(EventStoreError)
    {
        try message.withUnsafeBytes { bytes in
            Result { () throws(EventStoreError) in
                try gather(
                    StagedKey(transaction: xid, kind: .messages), subtransaction: subxid, ordinal: 0, body: bytes)
            }
        }.get()
    }

    /// Visits the staged messages of `xid` in arrival order, a few blocks at a
    /// time, so a transaction of any size is read in bounded memory.
    public func forEachStaged(
        transaction xid: UInt32, _ visit: ([UInt8]) throws -> Void
    ) throws {
        let key = StagedKey(transaction: xid, kind: .messages)
        try writeStaged(key)
        var after: Int64 = 0
        while true {
            var messages: [[UInt8]] = []
            let last = try forEachStagedBlock(key, after: after, limit: 16) { _, frame, _ in
                for position in 0..<frame.count { messages.append(Array(frame.body(position))) }
            }
            guard let last else { return }
            for message in messages { try visit(message) }
            after = last
        }
    }

    /// Drops what a transaction staged, or only one aborted subtransaction's part.
    public func discardStaged(transaction xid: UInt32, subtransaction subxid: UInt32? = nil) throws(EventStoreError) {
        try requireGroup("discard staged changes")
        do {
            if let subxid, subxid != xid {
                for kind in [StagedKind.messages, .templates] {
                    try discardStaged(StagedKey(transaction: xid, kind: kind), onlySubtransaction: subxid)
                }
            } else {
                let operation = "discard staged changes of transaction \(xid)"
                staging[StagedKey(transaction: xid, kind: .messages)] = nil
                staging[StagedKey(transaction: xid, kind: .templates)] = nil
                statements.deleteFramesOfTransaction.bind(Int64(xid), at: 1)
                try statements.deleteFramesOfTransaction.run(operation)
                statements.deleteStagedOfTransaction.bind(Int64(xid), at: 1)
                try statements.deleteStagedOfTransaction.run(operation)
            }
        } catch {
            // Blocks may be half rewritten: the group must not commit.
            rollbackGroup()
            throw error
        }
    }

    /// Drops everything staged: at the start of a session, since Postgres
    /// streams every unfinished transaction again from its beginning.
    public func discardAllStaged() throws(EventStoreError) {
        let alreadyOpen = isGroupOpen
        if !alreadyOpen { try beginGroup() }
        staging.removeAll()
        do {
            try statements.deleteAllStagedFrames.run("discard all staged changes")
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

    /// Adds one entry to what `key` gathers, writing the block once it is full.
    func gather(_ key: StagedKey, subtransaction subxid: UInt32, ordinal: Int32, body: UnsafeRawBufferPointer)
        throws(EventStoreError)
    {
        try requireGroup(key.kind == .messages ? "stage a streamed change" : "stage a streamed event")
        staging[key, default: EventBlockBuilder()].add(commitLSN: LSN(UInt64(subxid)), ordinal: ordinal, body: body)
        if staging[key]?.isFull == true { try writeStaged(key) }
    }

    /// Writes every transaction's gathered blocks, before the group commits.
    func writeAllStaged() throws(EventStoreError) {
        for key in staging.keys.sorted(by: { ($0.transaction, $0.kind.rawValue) < ($1.transaction, $1.kind.rawValue) })
        {
            try writeStaged(key)
        }
    }

    /// Writes what `key` has gathered as one staged block.
    func writeStaged(_ key: StagedKey) throws(EventStoreError) {
        guard var builder = staging.removeValue(forKey: key), !builder.isEmpty else { return }
        // Put the (emptied) builder back whatever happens, to reuse its buffers.
        defer { staging[key] = builder }
        let operation = "stage \(key.kind == .messages ? "changes" : "events") of transaction \(key.transaction)"
        let insert = statements.insertStaged
        insert.bind(Int64(key.transaction), at: 1)
        insert.bind(key.kind.rawValue, at: 2)
        insert.bind(Int64(builder.count), at: 3)
        insert.bind(Int64(builder.bodies.count), at: 4)
        do {
            try run(statements.insertFrame, withFrameOf: &builder, parametersFrom: 1, operation: operation)
            try insert.run(operation)
        } catch {
            // The gathered entries are gone: the group must not commit without them.
            rollbackGroup()
            throw error
        }
    }

    /// Calls `visit` with up to `limit` staged blocks of `key` after frame id
    /// `after`, in order (frame id, frame, its staged body bytes); returns the
    /// last frame id visited, nil when there was none.
    private func forEachStagedBlock(
        _ key: StagedKey, after: Int64, limit: Int64, _ visit: (Int64, EventBlockFrame, Int64) -> Void
    ) throws(EventStoreError) -> Int64? {
        let operation = "read staged blocks of transaction \(key.transaction)"
        let select = statements.selectStaged
        select.bind(Int64(key.transaction), at: 1)
        select.bind(key.kind.rawValue, at: 2)
        select.bind(after, at: 3)
        select.bind(limit, at: 4)
        defer { select.reset() }
        var last: Int64?
        while try select.step(operation) {
            let frameID = select.int64(0)
            let bodyBytes = select.int64(5)
            let decoded = select.withBytes(3) { stored in
                StoredBlock.withFrame(
                    codec: select.int64(1), rawBytes: select.int64(2), stored: stored, referenced: nil,
                    eventCount: select.int64(4), scratch: &scratch
                ) { frame in visit(frameID, frame, bodyBytes) }
            }
            guard decoded != nil else {
                throw EventStoreError(
                    kind: .corrupt, operation: operation, path: path,
                    message: "the staged block \(frameID) does not decode (its bytes are damaged)")
            }
            last = frameID
        }
        return last
    }

    /// Rewrites `key`'s blocks without the entries of `subxid`, one block at
    /// a time, dropping blocks left empty.
    private func discardStaged(_ key: StagedKey, onlySubtransaction subxid: UInt32) throws(EventStoreError) {
        let operation = "discard staged changes of subtransaction \(subxid)"
        let tag = LSN(UInt64(subxid))
        if let gathered = staging.removeValue(forKey: key) {
            var kept = EventBlockBuilder()
            gathered.forEachEntry { lsn, ordinal, body in
                if lsn != tag { kept.add(commitLSN: lsn, ordinal: ordinal, body: body) }
            }
            staging[key] = kept
        }
        var after: Int64 = 0
        while true {
            var kept = EventBlockBuilder()
            var dropped = false
            guard
                let frameID = try forEachStagedBlock(
                    key, after: after, limit: 1,
                    { _, frame, _ in
                        for entry in 0..<frame.count {
                            if frame.commitLSN(entry) == tag {
                                dropped = true
                            } else {
                                kept.add(
                                    commitLSN: frame.commitLSN(entry), ordinal: frame.ordinal(entry),
                                    body: frame.body(entry))
                            }
                        }
                    })
            else { return }
            after = frameID
            guard dropped else { continue }
            if kept.isEmpty {
                statements.deleteStaged.bind(frameID, at: 1)
                try statements.deleteStaged.run(operation)
                statements.deleteFrame.bind(frameID, at: 1)
                try statements.deleteFrame.run(operation)
            } else {
                let counts = statements.updateStagedCounts
                counts.bind(frameID, at: 1)
                counts.bind(Int64(kept.count), at: 2)
                counts.bind(Int64(kept.bodies.count), at: 3)
                try counts.run(operation)
                statements.updateFrame.bind(frameID, at: 1)
                try run(statements.updateFrame, withFrameOf: &kept, parametersFrom: 2, operation: operation)
            }
        }
    }
}
