// The reader's side of the schema registry, for `popsink-pg schemas` and the
// API: the newest version of each table, and one table's whole history.

extension EventStoreReader {
    /// The newest version of every table, ordered by schema and table.
    public func latestTableSchemas() throws(EventStoreError) -> [StoredTableSchema] {
        try withConnection("read the schema registry") { (connection) throws(EventStoreError) in
            try StoredTableSchema.all(in: connection, latestOnly: true, table: nil)
        }
    }

    /// Every version of one table, oldest first; empty when it has none.
    public func tableSchemaHistory(schema: String, table: String) throws(EventStoreError) -> [StoredTableSchema] {
        try withConnection("read the schema registry") { (connection) throws(EventStoreError) in
            try StoredTableSchema.all(in: connection, latestOnly: false, table: (schema, table))
        }
    }
}
