// One kind of record (sources, pipelines) in the state store's `records`
// table, and its copy in memory. The API reads a pipeline record on nearly
// every request (status is polled by dashboards and orchestrators), and a
// read through SQLite costs a hop to a blocking thread and back, which under a
// busy CPU is most of a status request's latency (bench/api). Records are few
// and small, so the whole set lives here; the database is still the truth and
// updates this copy only once a write has committed.

import EventStore
import Foundation
import Synchronization

/// Records with a string id, stored as JSON under `kind`.
protocol StoredRecord: Codable, Sendable {
    static var kind: String { get }
    var id: String { get }
}

extension SourceRecord: StoredRecord {
    static let kind = "source"
}

extension PipelineRecord: StoredRecord {
    static let kind = "pipeline"
}

/// The records of one kind, readable from any thread.
final class RecordTable<Record: StoredRecord>: Sendable {
    private let records: Mutex<[String: Record]>

    /// Loads every record of the kind; called once when the store opens.
    init(_ connection: SQLiteConnection) throws {
        let statement = try connection.prepare("SELECT record FROM records WHERE kind = ?")
        defer { statement.finalize() }
        statement.bind(Record.kind, at: 1)
        var loaded: [String: Record] = [:]
        while try statement.step("load \(Record.kind) records") {
            let record = try Self.decode(statement.text(0) ?? "")
            loaded[record.id] = record
        }
        records = Mutex(loaded)
    }

    /// Every record, ordered by id.
    var all: [Record] { records.withLock { $0.values.sorted { $0.id < $1.id } } }

    func record(id: String) -> Record? { records.withLock { $0[id] } }

    /// Writes `record` on `connection` (the caller holds it), then shows it here.
    func save(_ record: Record, on connection: SQLiteConnection) throws {
        let statement = try connection.prepare(
            """
            INSERT INTO records (kind, id, record) VALUES (?, ?, ?)
            ON CONFLICT (kind, id) DO UPDATE SET record = excluded.record
            """)
        defer { statement.finalize() }
        statement.bind(Record.kind, at: 1)
        statement.bind(record.id, at: 2)
        statement.bind(try Self.encode(record), at: 3)
        try statement.run("save \(Record.kind) \(record.id)")
        records.withLock { $0[record.id] = record }
    }

    /// Deletes the record `id` on `connection`; false when there was none.
    func delete(id: String, on connection: SQLiteConnection) throws -> Bool {
        let statement = try connection.prepare("DELETE FROM records WHERE kind = ? AND id = ?")
        defer { statement.finalize() }
        statement.bind(Record.kind, at: 1)
        statement.bind(id, at: 2)
        try statement.run("delete \(Record.kind) \(id)")
        let deleted = connection.changes > 0
        records.withLock { _ = $0.removeValue(forKey: id) }
        return deleted
    }

    /// Keys sorted: a record's text is stable, so rewriting the same record changes no byte.
    private static func encode(_ record: Record) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }

    private static func decode(_ json: String) throws -> Record {
        try JSONDecoder().decode(Record.self, from: Data(json.utf8))
    }
}
