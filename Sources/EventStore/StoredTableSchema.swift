// One version of a captured table's column list as the store keeps it. The
// store does not interpret the columns: the pipeline writes them as JSON and
// reads them back (`SchemaVersion` in CDC), so the registry's format can grow
// without a migration.

import PostgresWire

/// A row of the schema registry.
public struct StoredTableSchema: Sendable, Equatable {
    public var schema: String
    public var table: String
    /// 1 for the first version of the table, then +1 for each change.
    public var version: Int64
    public var relationOID: UInt32
    /// Where the version took effect.
    public var lsn: LSN
    /// The commit LSN of the transaction (or snapshot) that announced it.
    public var commitLSN: LSN
    /// The full column list, as JSON.
    public var columns: String
    /// What changed against the previous version, as JSON; nil for the first.
    public var change: String?

    public init(
        schema: String, table: String, version: Int64, relationOID: UInt32, lsn: LSN, commitLSN: LSN,
        columns: String, change: String?
    ) {
        self.schema = schema
        self.table = table
        self.version = version
        self.relationOID = relationOID
        self.lsn = lsn
        self.commitLSN = commitLSN
        self.columns = columns
        self.change = change
    }
}

extension StoredTableSchema {
    static let selectColumns =
        "schema_name, table_name, version, relation_oid, lsn, commit_lsn, columns, change"

    /// Reads a row selected with `selectColumns`.
    static func read(_ row: SQLiteStatement) -> StoredTableSchema {
        StoredTableSchema(
            schema: row.text(0) ?? "", table: row.text(1) ?? "", version: row.int64(2),
            relationOID: UInt32(truncatingIfNeeded: row.int64(3)),
            lsn: LSN(UInt64(bitPattern: row.int64(4))), commitLSN: LSN(UInt64(bitPattern: row.int64(5))),
            columns: row.text(6) ?? "[]", change: row.isNull(7) ? nil : row.text(7))
    }

    /// Every version in `connection`'s store, by table then version;
    /// `latestOnly` keeps each table's newest; `table` keeps one table's.
    static func all(
        in connection: SQLiteConnection, latestOnly: Bool, table: (schema: String, name: String)?
    ) throws(EventStoreError) -> [StoredTableSchema] {
        var conditions: [String] = []
        if latestOnly {
            conditions.append(
                """
                version = (SELECT max(version) FROM table_schemas l
                           WHERE l.schema_name = s.schema_name AND l.table_name = s.table_name)
                """)
        }
        if table != nil { conditions.append("schema_name = ?1 AND table_name = ?2") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let select = try connection.prepare(
            "SELECT \(selectColumns) FROM table_schemas s \(filter) ORDER BY schema_name, table_name, version",
            operation: "read the schema registry")
        defer { select.finalize() }
        if let table {
            select.bind(table.schema, at: 1)
            select.bind(table.name, at: 2)
        }
        var versions: [StoredTableSchema] = []
        while try select.step("read the schema registry") { versions.append(read(select)) }
        return versions
    }
}
