// Small facts a pipeline keeps beside its events: the slot's identity (system
// identifier, timeline, slot name, database) and the consistent point, checked
// against the server on restart (DESIGN §4 invariant 5), and snapshot
// progress. They live in the store's own database so they commit with the
// events they describe.

extension EventStoreWriter {
    /// A metadata value (slot name, system identifier, timeline ...), nil when unset.
    public func metadata(_ key: String) throws(EventStoreError) -> String? {
        try queries.metadata(key)
    }

    /// Sets a metadata value. Inside an open group it commits (or rolls back)
    /// with the group, so progress recorded this way matches the events.
    public func setMetadata(_ key: String, _ value: String) throws(EventStoreError) {
        let upsert = statements.upsertMetadata
        upsert.bind(key, at: 1)
        upsert.bind(value, at: 2)
        try runInGroupIfOpen(upsert, "set metadata \(key)")
    }

    /// Removes a metadata value; like `setMetadata` it joins an open group.
    public func removeMetadata(_ key: String) throws(EventStoreError) {
        let delete = statements.deleteMetadata
        delete.bind(key, at: 1)
        try runInGroupIfOpen(delete, "remove metadata \(key)")
    }

    /// Keeps the group rule (a failed group operation rolls the group back)
    /// for metadata written inside a group.
    private func runInGroupIfOpen(_ statement: SQLiteStatement, _ operation: String) throws(EventStoreError) {
        do {
            try statement.run(operation)
        } catch {
            rollbackGroup()
            throw error
        }
    }
}
