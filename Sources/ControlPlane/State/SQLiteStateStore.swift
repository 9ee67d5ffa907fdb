// The embedded state store: `state.sqlite` in the data directory, through the
// package's own SQLite wrapper (the event store's). Records are JSON in one
// `records` table keyed by kind and id: they are small, read whole, and change
// shape with the API. Reads are served from memory (`RecordTable`); writes run
// one at a time on a `Blocking` thread, so a slow disk never blocks Swift's
// cooperative pool, and update the copy in memory once committed; so this
// file must be the only writer of `state.sqlite` (with `StateKeyRotation`).
//
// Secrets (source passwords) are sealed with AES-256-GCM under the key file
// (`secret.key` beside the store unless given); plaintext left by an earlier
// version is sealed when the store opens. `secure_delete` zeroes what a write
// frees, so an old plaintext or ciphertext does not linger in free space.

import Blocking
import EventStore
import Foundation
import Secrets
import Synchronization

/// Sources and pipelines in SQLite.
public final class SQLiteStateStore: StateStore {
    private let connection: Mutex<Connection>
    private let sourceTable: RecordTable<SourceRecord>
    private let pipelineTable: RecordTable<PipelineRecord>
    private let keyring: SecretKeyring

    /// The connection, touched only under the mutex.
    private final class Connection: @unchecked Sendable {
        let sqlite: SQLiteConnection
        init(_ sqlite: SQLiteConnection) { self.sqlite = sqlite }
    }

    /// The key file used when none is given: beside the store, created on first open.
    public static func defaultKeyFile(forStore path: String) -> String {
        ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("secret.key")
    }

    /// Opens (or creates) the store at `path`, its secrets sealed under `keyring`
    /// (by default the key file beside it, created with a new key if missing).
    public init(path: String, keyring: SecretKeyring? = nil) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let keyring = try keyring ?? SecretKeyring(path: Self.defaultKeyFile(forStore: path), create: true)
        let box = try keyring.box()
        let sqlite = try Self.open(path)
        let sources = try RecordTable<SourceRecord>(sqlite, box: box)
        let pipelines = try RecordTable<PipelineRecord>(sqlite, box: box)
        if !sources.needResealing.isEmpty || !pipelines.needResealing.isEmpty {
            try Self.inTransaction(sqlite, "seal the state store's secrets") {
                for id in sources.needResealing {
                    try sources.persist(sources.record(id: id)!, sealedWith: box, on: sqlite)
                }
                for id in pipelines.needResealing {
                    try pipelines.persist(pipelines.record(id: id)!, sealedWith: box, on: sqlite)
                }
            }
            // Pages freed before secure_delete was on may still hold the plaintext: rebuild the file.
            try sqlite.execute("VACUUM", operation: "rewrite the state store without its plaintext secrets")
        }
        sourceTable = sources
        pipelineTable = pipelines
        self.keyring = keyring
        connection = Mutex(Connection(sqlite))
        // Records hold connection settings: keep the file to its owner.
        chmod(path, 0o600)
    }

    /// A connection to the store at `path`, migrated to the current layout.
    static func open(_ path: String) throws -> SQLiteConnection {
        let sqlite = try SQLiteConnection(path: path, mode: .readWrite(create: true))
        try sqlite.execute("PRAGMA busy_timeout = 5000", operation: "configure")
        try sqlite.execute("PRAGMA secure_delete = ON", operation: "configure")
        try StateSchema.migrate(sqlite)
        return sqlite
    }

    /// Runs `body` in one IMMEDIATE transaction on `sqlite`, rolled back if it throws.
    static func inTransaction<T>(_ sqlite: SQLiteConnection, _ operation: String, _ body: () throws -> T) throws -> T {
        try sqlite.execute("BEGIN IMMEDIATE", operation: operation)
        do {
            let result = try body()
            try sqlite.execute("COMMIT", operation: operation)
            return result
        } catch {
            if !sqlite.isAutocommit { try? sqlite.execute("ROLLBACK", operation: operation) }
            throw error
        }
    }

    public func sources() async throws -> [SourceRecord] { sourceTable.all }
    public func source(id: String) async throws -> SourceRecord? { sourceTable.record(id: id) }
    public func save(_ source: SourceRecord) async throws {
        try await write(
            "save source \(source.id)", { try self.sourceTable.persist(source, sealedWith: $1, on: $0) },
            committed: { self.sourceTable.remember(source) })
    }
    public func deleteSource(id: String) async throws -> Bool {
        try await write(
            "delete source \(id)", { sqlite, _ in try self.sourceTable.delete(id: id, on: sqlite) },
            committed: { self.sourceTable.forget(id: id) })
    }

    public func pipelines() async throws -> [PipelineRecord] { pipelineTable.all }
    public func pipeline(id: String) async throws -> PipelineRecord? { pipelineTable.record(id: id) }
    public func save(_ pipeline: PipelineRecord) async throws {
        try await write(
            "save pipeline \(pipeline.id)", { try self.pipelineTable.persist(pipeline, sealedWith: $1, on: $0) },
            committed: { self.pipelineTable.remember(pipeline) })
    }
    public func deletePipeline(id: String) async throws -> Bool {
        try await write(
            "delete pipeline \(id)", { sqlite, _ in try self.pipelineTable.delete(id: id, on: sqlite) },
            committed: { self.pipelineTable.forget(id: id) })
    }

    /// Runs one write in its own transaction under the lock, off the
    /// cooperative pool, and shows it in memory once committed: writes commit,
    /// and show, in order. The keys are read inside the transaction, so a key
    /// rotation (which holds the write lock while it retires a key) never
    /// misses a secret sealed under the key it retires.
    private func write<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (SQLiteConnection, SecretBox) throws -> T,
        committed: @escaping @Sendable () -> Void
    ) async throws -> T {
        try await Blocking.run { () throws -> T in
            try self.connection.withLock { connection throws -> T in
                let result = try Self.inTransaction(connection.sqlite, operation) {
                    try body(connection.sqlite, try self.keyring.box())
                }
                committed()
                return result
            }
        }
    }
}

/// The state store's tables, and the move from the layouts earlier versions left.
enum StateSchema {
    /// `PRAGMA user_version` of the current layout.
    static let version: Int64 = 2

    /// Brings a new or older store to `version`, in one transaction. Version 1
    /// was written through GRDB: tables `sources` and `pipelines` (id, record
    /// JSON) and GRDB's `grdb_migrations`; their rows move into `records` as
    /// they are (the record JSON did not change shape).
    static func migrate(_ connection: SQLiteConnection) throws {
        let current = try connection.integer("PRAGMA user_version", operation: "read the state store version")
        guard current < version else { return }
        let tables = try Set(names(connection, "SELECT name FROM sqlite_master WHERE type = 'table'"))
        var script = """
            BEGIN IMMEDIATE;
            CREATE TABLE IF NOT EXISTS records (
                kind TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (kind, id)
            ) WITHOUT ROWID;

            """
        if tables.contains("sources") {
            script += "INSERT OR REPLACE INTO records SELECT 'source', id, record FROM sources; DROP TABLE sources;\n"
        }
        if tables.contains("pipelines") {
            script +=
                "INSERT OR REPLACE INTO records SELECT 'pipeline', id, record FROM pipelines; DROP TABLE pipelines;\n"
        }
        if tables.contains("grdb_migrations") { script += "DROP TABLE grdb_migrations;\n" }
        script += "PRAGMA user_version = \(version);\nCOMMIT;"
        do {
            try connection.execute(script, operation: "migrate the state store to version \(version)")
        } catch {
            if !connection.isAutocommit { try? connection.execute("ROLLBACK", operation: "roll back the migration") }
            throw error
        }
    }

    private static func names(_ connection: SQLiteConnection, _ sql: String) throws -> [String] {
        let statement = try connection.prepare(sql)
        defer { statement.finalize() }
        var names: [String] = []
        while try statement.step("list the state store's tables") { names.append(statement.text(0) ?? "") }
        return names
    }
}
