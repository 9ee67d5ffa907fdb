// A connection to a pipeline's store beside its writer: the API's own, for
// the few rows it writes there (consumer positions, backfill requests).

extension SQLiteConnection {
    /// Opens the store at `path` read-write, creating it (and its directory)
    /// when it does not exist yet, so the API can write before the pipeline
    /// first runs; migrated to the current schema. The writer checkpoints the
    /// WAL, so this connection never does.
    /// - Parameter durability: how this connection's commits reach the disk.
    static func openSideConnection(path: String, durability: Durability) throws(EventStoreError) -> SQLiteConnection {
        if FileSystem.isDirectory(path) {
            throw EventStoreError(
                kind: .notAnEventStore, operation: "open", path: path, message: "the path is a directory")
        }
        try FileSystem.createParentDirectory(of: path)
        let connection = try SQLiteConnection(path: path, mode: .readWrite(create: true))
        try connection.execute("PRAGMA busy_timeout = 5000", operation: "configure")
        try Schema.check(connection, allowEmpty: true)
        _ = try connection.text("PRAGMA journal_mode = WAL", operation: "enable WAL")
        try connection.execute(
            "PRAGMA synchronous = \(durability.pragmaValue); PRAGMA wal_autocheckpoint = 0", operation: "configure")
        try Schema.migrate(connection)
        return connection
    }
}
