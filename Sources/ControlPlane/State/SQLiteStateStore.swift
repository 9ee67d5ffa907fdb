// The embedded state store: `state.sqlite` in the data directory, through the
// package's own SQLite wrapper (the event store's). Records are JSON in one
// `records` table keyed by kind and id: they are small, read whole, and change
// shape with the API. Reads are served from memory (`RecordTable`); writes run
// one at a time on a `Blocking` thread, so a slow disk never blocks Swift's
// cooperative pool, and update the copy in memory once committed; so this
// file must be the only writer of `state.sqlite`.

import Blocking
import EventStore
import Foundation
import Synchronization

/// Sources and pipelines in SQLite.
public final class SQLiteStateStore: StateStore {
    private let connection: Mutex<Connection>
    private let sourceTable: RecordTable<SourceRecord>
    private let pipelineTable: RecordTable<PipelineRecord>

    /// The connection, touched only under the mutex.
    private final class Connection: @unchecked Sendable {
        let sqlite: SQLiteConnection
        init(_ sqlite: SQLiteConnection) { self.sqlite = sqlite }
    }

    public init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let sqlite = try SQLiteConnection(path: path, mode: .readWrite(create: true))
        try sqlite.execute("PRAGMA busy_timeout = 5000", operation: "configure")
        try StateSchema.migrate(sqlite)
        sourceTable = try RecordTable(sqlite)
        pipelineTable = try RecordTable(sqlite)
        connection = Mutex(Connection(sqlite))
        // Records hold passwords: keep the file to its owner.
        chmod(path, 0o600)
    }

    public func sources() async throws -> [SourceRecord] { sourceTable.all }
    public func source(id: String) async throws -> SourceRecord? { sourceTable.record(id: id) }
    public func save(_ source: SourceRecord) async throws {
        try await write { try self.sourceTable.save(source, on: $0) }
    }
    public func deleteSource(id: String) async throws -> Bool {
        try await write { try self.sourceTable.delete(id: id, on: $0) }
    }

    public func pipelines() async throws -> [PipelineRecord] { pipelineTable.all }
    public func pipeline(id: String) async throws -> PipelineRecord? { pipelineTable.record(id: id) }
    public func save(_ pipeline: PipelineRecord) async throws {
        try await write { try self.pipelineTable.save(pipeline, on: $0) }
    }
    public func deletePipeline(id: String) async throws -> Bool {
        try await write { try self.pipelineTable.delete(id: id, on: $0) }
    }

    /// Runs one write (a single statement, its own transaction) under the lock,
    /// off the cooperative pool: writes commit, and show in memory, in order.
    private func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await Blocking.run { () throws -> T in
            try self.connection.withLock { connection throws -> T in try body(connection.sqlite) }
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
