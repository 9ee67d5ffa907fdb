// One version of a captured table's column list: what the registry keeps, an
// `s` event announces, and the store records (`StoredTableSchema`).

import EventStore
import Foundation
import PostgresWire

struct SchemaVersion: Equatable, Sendable {
    let schema: String
    let table: String
    /// 1 for the first version the pipeline saw, then +1 per change.
    let version: Int
    let relationOID: UInt32
    let columns: [ColumnSchema]
    /// Against the previous version; nil for the first.
    let change: SchemaDiff?

    /// The store's row for this version, which took effect at `lsn` in the
    /// transaction (or snapshot) committed at `commitLSN`.
    func stored(lsn: LSN, commitLSN: LSN) -> StoredTableSchema {
        StoredTableSchema(
            schema: schema, table: table, version: Int64(version), relationOID: relationOID, lsn: lsn,
            commitLSN: commitLSN, columns: Self.json(columns), change: change.map(Self.json))
    }

    /// Reads back a stored version.
    init(stored: StoredTableSchema) throws {
        schema = stored.schema
        table = stored.table
        version = Int(stored.version)
        relationOID = stored.relationOID
        columns = try JSONDecoder().decode([ColumnSchema].self, from: Data(stored.columns.utf8))
        change = try stored.change.map { try JSONDecoder().decode(SchemaDiff.self, from: Data($0.utf8)) }
    }

    init(schema: String, table: String, version: Int, relationOID: UInt32, columns: [ColumnSchema], change: SchemaDiff?)
    {
        self.schema = schema
        self.table = table
        self.version = version
        self.relationOID = relationOID
        self.columns = columns
        self.change = change
    }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail.
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }
}
