// The embedded state store: `state.sqlite` in the data directory, through
// GRDB. GRDB's async accessors run on its own dispatch queue, so a slow disk
// never blocks Swift's cooperative pool. Records are stored as JSON columns
// next to their id: they are small, read whole, and change shape with the API.
// Reads are served from a copy in memory (`RecordCache`), which each write
// updates once its transaction has committed, in commit order on GRDB's
// writer queue; so this file must be the only writer of `state.sqlite`.

import Foundation
import GRDB

/// Sources and pipelines in SQLite.
public final class SQLiteStateStore: StateStore {
    private let database: DatabaseQueue
    private let cache: RecordCache

    public init(path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        database = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE sources (id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE pipelines (
                    id TEXT PRIMARY KEY, source_id TEXT NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
                """)
        }
        try migrator.migrate(database)
        cache = try database.read { db in
            RecordCache(
                sources: try String.fetchAll(db, sql: "SELECT record FROM sources").map(Self.decode),
                pipelines: try String.fetchAll(db, sql: "SELECT record FROM pipelines").map(Self.decode))
        }
        // Records hold passwords: keep the file to its owner.
        chmod(path, 0o600)
    }

    public func sources() async throws -> [SourceRecord] { cache.sources }

    public func source(id: String) async throws -> SourceRecord? { cache.source(id: id) }

    public func save(_ source: SourceRecord) async throws {
        let json = try Self.encode(source)
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO sources (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                arguments: [source.id, json])
            db.afterNextTransaction { [cache] _ in cache.put(source) }
        }
    }

    public func deleteSource(id: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM sources WHERE id = ?", arguments: [id])
            let deleted = db.changesCount > 0
            db.afterNextTransaction { [cache] _ in cache.removeSource(id: id) }
            return deleted
        }
    }

    public func pipelines() async throws -> [PipelineRecord] { cache.pipelines }

    public func pipeline(id: String) async throws -> PipelineRecord? { cache.pipeline(id: id) }

    public func save(_ pipeline: PipelineRecord) async throws {
        let json = try Self.encode(pipeline)
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO pipelines (id, source_id, record) VALUES (?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET source_id = excluded.source_id, record = excluded.record
                    """,
                arguments: [pipeline.id, pipeline.sourceID, json])
            db.afterNextTransaction { [cache] _ in cache.put(pipeline) }
        }
    }

    public func deletePipeline(id: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM pipelines WHERE id = ?", arguments: [id])
            let deleted = db.changesCount > 0
            db.afterNextTransaction { [cache] _ in cache.removePipeline(id: id) }
            return deleted
        }
    }

    private static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func decode<Record: Decodable>(_ json: String) throws -> Record {
        try JSONDecoder().decode(Record.self, from: Data(json.utf8))
    }
}
