// The snapshot's plan and per-chunk progress, kept in the store so that
// progress commits with the rows it describes (DESIGN §4 invariant 7): a
// chunk's `next_page` only moves in the group holding the rows before it.

extension EventStoreWriter {
    /// The load plan, in chunk order; empty when none was saved.
    public func snapshotChunks() throws(EventStoreError) -> [SnapshotChunk] {
        let select = try connection.prepare(
            """
            SELECT chunk, schema_name, table_name, relfilenode, first_page, end_page, next_page, rows, done
            FROM load_chunks ORDER BY chunk
            """)
        defer { select.finalize() }
        var chunks: [SnapshotChunk] = []
        while try select.step("read the load plan") {
            chunks.append(
                SnapshotChunk(
                    id: select.int64(0), schema: select.text(1) ?? "", table: select.text(2) ?? "",
                    relfilenode: UInt32(truncatingIfNeeded: select.int64(3)),
                    firstPage: UInt32(truncatingIfNeeded: select.int64(4)),
                    endPage: select.isNull(5) ? nil : UInt32(truncatingIfNeeded: select.int64(5)),
                    nextPage: UInt32(truncatingIfNeeded: select.int64(6)), rows: select.int64(7),
                    isDone: select.int64(8) != 0))
        }
        return chunks
    }

    /// Adds chunks to the plan, inside the open group.
    public func addSnapshotChunks(_ chunks: [SnapshotChunk]) throws(EventStoreError) {
        try requireGroup("save the load plan")
        let insert = statements.insertLoadChunk
        for chunk in chunks {
            insert.bind(chunk.id, at: 1)
            insert.bind(chunk.schema, at: 2)
            insert.bind(chunk.table, at: 3)
            insert.bind(Int64(chunk.relfilenode), at: 4)
            insert.bind(Int64(chunk.firstPage), at: 5)
            if let end = chunk.endPage { insert.bind(Int64(end), at: 6) } else { insert.bindNull(at: 6) }
            insert.bind(Int64(chunk.nextPage), at: 7)
            insert.bind(chunk.rows, at: 8)
            insert.bind(chunk.isDone ? 1 : 0, at: 9)
            do {
                try insert.run("save load chunk \(chunk.id)")
            } catch {
                rollbackGroup()
                throw error
            }
        }
    }

    /// Records, inside the open group, that `rows` more rows of `chunk` are
    /// stored, up to (not including) `nextPage`, and whether it is finished.
    public func recordSnapshotProgress(chunk: Int64, nextPage: UInt32, rows: Int64, done: Bool) throws(EventStoreError)
    {
        try requireGroup("record load progress")
        let update = statements.updateLoadChunk
        update.bind(chunk, at: 1)
        update.bind(Int64(nextPage), at: 2)
        update.bind(rows, at: 3)
        update.bind(done ? 1 : 0, at: 4)
        do {
            try update.run("record progress of load chunk \(chunk)")
        } catch {
            rollbackGroup()
            throw error
        }
    }
}
