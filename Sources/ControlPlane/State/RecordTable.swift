// One kind of record (sources, pipelines) in the state store's `records`
// table, and its copy in memory. The API reads a pipeline record on nearly
// every request (status is polled by dashboards and orchestrators), and a
// read through SQLite costs a hop to a blocking thread and back, which under a
// busy CPU is most of a status request's latency (bench/api). Records are few
// and small, so the whole set lives here; the database is still the truth and
// updates this copy only once a write has committed. Secrets are sealed on
// disk and open in this copy (StoredRecord+Secrets.swift).

import EventStore
import Foundation
import Secrets
import Synchronization

/// Records with a string id, stored as JSON under `kind`.
protocol StoredRecord: Codable, Sendable {
    static var kind: String { get }
    var id: String { get }
    /// Calls `body` with each secret field that is set, by name; what `body` leaves in it is kept.
    mutating func visitSecrets(_ body: (_ field: String, _ value: inout String) throws -> Void) rethrows
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
    /// Ids of records stored with a secret in plaintext or under an earlier key, found on load.
    let needResealing: [String]

    /// Loads every record of the kind, secrets opened; called once when the store opens.
    init(_ connection: SQLiteConnection, box: SecretBox) throws {
        var loaded: [String: Record] = [:]
        var needResealing: [String] = []
        for record in try Self.stored(on: connection) {
            let opened = try record.opened(with: box)
            loaded[record.id] = opened.record
            if opened.needsResealing { needResealing.append(record.id) }
        }
        records = Mutex(loaded)
        self.needResealing = needResealing
    }

    /// Every record as stored, secrets still sealed.
    static func stored(on connection: SQLiteConnection) throws -> [Record] {
        let statement = try connection.prepare("SELECT record FROM records WHERE kind = ?")
        defer { statement.finalize() }
        statement.bind(Record.kind, at: 1)
        var stored: [Record] = []
        while try statement.step("load \(Record.kind) records") {
            stored.append(try decode(statement.text(0) ?? ""))
        }
        return stored
    }

    /// Every record, ordered by id.
    var all: [Record] { records.withLock { $0.values.sorted { $0.id < $1.id } } }

    func record(id: String) -> Record? { records.withLock { $0[id] } }

    /// Writes `record` with its secrets sealed on `connection` (the caller holds
    /// it, in a transaction); `remember` shows it here once that commits.
    func persist(_ record: Record, sealedWith box: SecretBox, on connection: SQLiteConnection) throws {
        try Self.write(record.sealed(with: box), on: connection)
    }

    /// Writes `record` as it is (secrets already sealed, or none).
    static func write(_ record: Record, on connection: SQLiteConnection) throws {
        let statement = try connection.prepare(
            """
            INSERT INTO records (kind, id, record) VALUES (?, ?, ?)
            ON CONFLICT (kind, id) DO UPDATE SET record = excluded.record
            """)
        defer { statement.finalize() }
        statement.bind(Record.kind, at: 1)
        statement.bind(record.id, at: 2)
        statement.bind(try encode(record), at: 3)
        try statement.run("save \(Record.kind) \(record.id)")
    }

    func remember(_ record: Record) { records.withLock { $0[record.id] = record } }

    /// Deletes the record `id` on `connection`; false when there was none.
    func delete(id: String, on connection: SQLiteConnection) throws -> Bool {
        let statement = try connection.prepare("DELETE FROM records WHERE kind = ? AND id = ?")
        defer { statement.finalize() }
        statement.bind(Record.kind, at: 1)
        statement.bind(id, at: 2)
        try statement.run("delete \(Record.kind) \(id)")
        return connection.changes > 0
    }

    func forget(id: String) { records.withLock { _ = $0.removeValue(forKey: id) } }

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
