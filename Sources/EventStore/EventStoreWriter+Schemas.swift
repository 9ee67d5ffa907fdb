// The writer's side of the schema registry: the versions a pipeline resumes
// from, and each new version added in the group of the first event decoded
// with it (so a crash keeps both or neither).

extension EventStoreWriter {
    /// The newest version of every table, for a session to resume from.
    public func latestTableSchemas() throws(EventStoreError) -> [StoredTableSchema] {
        try StoredTableSchema.all(in: connection, latestOnly: true, table: nil)
    }

    /// Adds a version, inside the open group.
    public func addTableSchema(_ version: StoredTableSchema) throws(EventStoreError) {
        try requireGroup("record a schema version")
        let operation = "record version \(version.version) of \(version.schema).\(version.table)"
        do {
            let insert = try connection.prepare(
                """
                INSERT INTO table_schemas (\(StoredTableSchema.selectColumns))
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                """, operation: operation)
            defer { insert.finalize() }
            insert.bind(version.schema, at: 1)
            insert.bind(version.table, at: 2)
            insert.bind(version.version, at: 3)
            insert.bind(Int64(version.relationOID), at: 4)
            insert.bind(Int64(bitPattern: version.lsn.rawValue), at: 5)
            insert.bind(Int64(bitPattern: version.commitLSN.rawValue), at: 6)
            insert.bind(version.columns, at: 7)
            if let change = version.change { insert.bind(change, at: 8) } else { insert.bindNull(at: 8) }
            try insert.run(operation)
        } catch {
            rollbackGroup()
            throw error
        }
    }
}
