// Staging for streamed transactions (DESIGN §4 invariant 6): the messages of
// a transaction Postgres streams before it commits are kept here, on disk,
// not in memory, until its Stream Commit turns them into events or its
// Stream Abort drops them. Staged rows ride in the open group, so they need
// no transaction of their own.

extension EventStoreWriter {
    /// Stages one message of the streamed transaction `xid`, made by
    /// subtransaction `subxid` (equal to `xid` for the top level).
    public func stage(transaction xid: UInt32, subtransaction subxid: UInt32, message: ArraySlice<UInt8>)
        throws(EventStoreError)
    {
        try requireGroup("stage a streamed change")
        let insert = statements.insertStaged
        insert.bind(Int64(xid), at: 1)
        insert.bind(Int64(subxid), at: 2)
        var failure: EventStoreError?
        message.withUnsafeBytes { bytes in
            insert.bindNoCopy(bytes, at: 3)
            do throws(EventStoreError) { try insert.run("stage a change of transaction \(xid)") } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Visits the staged messages of `xid` in arrival order, a page at a time,
    /// so a transaction of any size is read in bounded memory.
    public func forEachStaged(
        transaction xid: UInt32, _ visit: ([UInt8]) throws -> Void
    ) throws {
        let select = statements.selectStaged
        var after: Int64 = 0
        while true {
            var page: [(position: Int64, message: [UInt8])] = []
            select.bind(Int64(xid), at: 1)
            select.bind(after, at: 2)
            select.bind(1000, at: 3)
            defer { select.reset() }
            while try select.step("read staged changes of transaction \(xid)") {
                page.append((select.int64(0), select.bytes(1)))
            }
            guard let last = page.last else { return }
            for row in page { try visit(row.message) }
            after = last.position
        }
    }

    /// Drops what a transaction staged, or only one aborted subtransaction's part.
    public func discardStaged(transaction xid: UInt32, subtransaction subxid: UInt32? = nil) throws(EventStoreError) {
        try requireGroup("discard staged changes")
        if let subxid, subxid != xid {
            let delete = statements.deleteStagedSubtransaction
            delete.bind(Int64(xid), at: 1)
            delete.bind(Int64(subxid), at: 2)
            try delete.run("discard staged changes of subtransaction \(subxid)")
        } else {
            let delete = statements.deleteStagedTransaction
            delete.bind(Int64(xid), at: 1)
            try delete.run("discard staged changes of transaction \(xid)")
        }
    }

    /// Drops everything staged: at the start of a session, since Postgres
    /// streams every unfinished transaction again from its beginning.
    public func discardAllStaged() throws(EventStoreError) {
        let alreadyOpen = isGroupOpen
        if !alreadyOpen { try beginGroup() }
        do {
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
}
