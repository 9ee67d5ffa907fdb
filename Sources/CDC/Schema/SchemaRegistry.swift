// The pipeline's schema registry in memory: the newest announced version of
// each captured table, by qualified name. A pure value: the stream asks it
// which version a resolved relation is, and tells it when a new version was
// announced (its `s` event appended, its row written in the same group).
//
// Every new session receives a Relation message for each table again; one
// with the same shape as the newest version is that version, so restarts
// create no versions.

import EventStore

struct SchemaRegistry: Sendable {
    struct Name: Hashable, Sendable {
        let schema: String
        let table: String
    }

    /// What a relation resolves to.
    struct Resolution: Equatable {
        /// The version its changes are decoded with.
        let version: Int
        /// Not yet announced: its `s` event goes before the first change decoded with it.
        let announcement: SchemaVersion?
    }

    private(set) var latest: [Name: SchemaVersion] = [:]

    init() {}

    /// Resumes from the newest stored version of each table.
    init(stored: [StoredTableSchema]) throws {
        for row in stored {
            let version = try SchemaVersion(stored: row)
            latest[Name(schema: row.schema, table: row.table)] = version
        }
    }

    func resolve(schema: String, table: String, relationOID: UInt32, columns: [ColumnSchema]) -> Resolution {
        let name = Name(schema: schema, table: table)
        guard let current = latest[name] else {
            return Resolution(
                version: 1,
                announcement: SchemaVersion(
                    schema: schema, table: table, version: 1, relationOID: relationOID, columns: columns, change: nil))
        }
        if current.columns.hasSameShape(as: columns) && current.relationOID == relationOID {
            return Resolution(version: current.version, announcement: nil)
        }
        let next = current.version + 1
        return Resolution(
            version: next,
            announcement: SchemaVersion(
                schema: schema, table: table, version: next, relationOID: relationOID, columns: columns,
                change: SchemaDiff(from: current.columns, previousVersion: current.version, to: columns)))
    }

    /// The version that records `name`'s table as dropped: no columns, every
    /// column in `change.dropped`; nil when the registry does not have the
    /// table, has another table of that name (`relationOID`), or has it dropped already.
    func dropped(schema: String, table: String, relationOID: UInt32) -> SchemaVersion? {
        guard let current = latest[Name(schema: schema, table: table)], current.relationOID == relationOID,
            current.change?.tableDropped != true
        else { return nil }
        var change = SchemaDiff(from: current.columns, previousVersion: current.version, to: [])
        change.tableDropped = true
        return SchemaVersion(
            schema: schema, table: table, version: current.version + 1, relationOID: relationOID, columns: [],
            change: change)
    }

    /// Whether the registry has a version of the table: DDL capture announces
    /// changes only of tables the pipeline has captured.
    func contains(schema: String, table: String) -> Bool {
        latest[Name(schema: schema, table: table)] != nil
    }

    /// `version` was announced; later relations are compared with it.
    mutating func announced(_ version: SchemaVersion) {
        latest[Name(schema: version.schema, table: version.table)] = version
    }
}
