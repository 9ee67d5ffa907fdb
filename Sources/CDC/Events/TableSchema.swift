// A relation as the pipeline needs it: the columns pgoutput announced, how
// each converts to JSON, which columns form the event's `key`, and whether
// the filter captures the table at all.

import PgOutput
import PostgresReplication

/// A relation resolved against the catalog and the pipeline's filter. A class:
/// it is looked up for every change, and copying its arrays each time showed
/// up in profiles as retain/release traffic.
final class TableSchema: Sendable {
    let relation: Relation
    /// Conversion of each column, in column order.
    let kinds: [ValueKind]
    /// Indexes of the key columns: the primary key, else the replica identity
    /// index, else the columns pgoutput flags as key.
    let keyIndexes: [Int]
    /// Whether the filter selects this table.
    let isCaptured: Bool
    /// Each column's `"name":`, encoded once.
    let columnKeys: [[UInt8]]
    /// `"schema":"…","table":"…","schema_version":N,` for the event's source
    /// block: the version is per table, so it costs the hot path nothing.
    let tableMembers: [UInt8]
    /// The registry's version these columns are (`SchemaRegistry`); 0 before
    /// the registry has resolved them, and then not written to events.
    let schemaVersion: Int
    /// The columns as the registry and `s` events describe them: an excluded
    /// column left out, a hashed one as `text`.
    let columns: [ColumnSchema]
    /// The pipeline's column masking of this table; nil when it keeps every column.
    let mask: ColumnMask.Table?

    init(
        relation: Relation, kinds: [ValueKind], keyColumns: [String], isCaptured: Bool,
        columnFacts: [CatalogLookup.ColumnFacts] = [], schemaVersion: Int = 0,
        partitionRoot: TableFilter.TableName? = nil, mask: ColumnMask.Table? = nil
    ) {
        self.mask = mask
        self.relation = relation
        self.partitionRoot = partitionRoot
        self.kinds = kinds
        let byName = keyColumns.compactMap { name in relation.columns.firstIndex { $0.name == name } }
        let keyIndexes =
            byName.isEmpty
            ? relation.columns.indices.filter { relation.columns[$0].isKey }
            : byName
        self.keyIndexes = keyIndexes
        self.isCaptured = isCaptured
        self.schemaVersion = schemaVersion
        columnKeys = relation.columns.map { JSONWriter.encodedKey($0.name) }
        // Only the catalog's key: with REPLICA IDENTITY FULL pgoutput flags
        // every column, and a snapshot's relation flags none, so the flags
        // would make the same table two versions.
        let described = relation.columns.enumerated().map { index, column in
            let facts = index < columnFacts.count ? columnFacts[index] : nil
            return ColumnSchema(
                name: column.name, typeOID: column.typeOID, typeModifier: column.typeModifier,
                typeName: facts?.typeName ?? "", isKey: byName.contains(index), isNullable: facts?.isNullable,
                defaultExpression: facts?.defaultExpression, attnum: facts?.attnum)
        }
        columns = mask?.masked(described, kinds: kinds) ?? described
        self.columnFacts = columnFacts
        self.keyColumns = keyColumns
        var members = JSONWriter()
        members.beginObject()
        members.key("schema")
        members.string(relation.namespace)
        members.key("table")
        members.string(relation.name)
        if schemaVersion > 0 {
            members.key("schema_version")
            members.integer(schemaVersion)
        }
        if let partitionRoot {
            members.key("partition_root")
            members.beginObject()
            members.key("schema")
            members.string(partitionRoot.schema)
            members.key("table")
            members.string(partitionRoot.table)
            members.endObject()
        }
        tableMembers = Array(members.bytes.dropFirst()) + [UInt8(ascii: ",")]
    }

    private let columnFacts: [CatalogLookup.ColumnFacts]
    private let keyColumns: [String]
    /// The partitioned table at the top of a partition's ancestry (published
    /// without `publish_via_partition_root`), named in the events' `source`.
    let partitionRoot: TableFilter.TableName?

    /// The same table as version `version` of the registry.
    func versioned(_ version: Int) -> TableSchema {
        TableSchema(
            relation: relation, kinds: kinds, keyColumns: keyColumns, isCaptured: isCaptured,
            columnFacts: columnFacts, schemaVersion: version, partitionRoot: partitionRoot, mask: mask)
    }

    /// The same table with `mask`'s rules on its columns.
    func masked(by mask: ColumnMask?) -> TableSchema {
        guard let mask, isCaptured,
            let table = mask.table(
                schema: relation.namespace, table: relation.name, columns: relation.columns.map(\.name))
        else { return self }
        return TableSchema(
            relation: relation, kinds: kinds, keyColumns: keyColumns, isCaptured: isCaptured,
            columnFacts: columnFacts, schemaVersion: schemaVersion, partitionRoot: partitionRoot, mask: table)
    }

    /// The same table under `mask`, which is one of this table's (`ColumnMask.Table.holdingBack`).
    func remasked(_ mask: ColumnMask.Table) -> TableSchema {
        TableSchema(
            relation: relation, kinds: kinds, keyColumns: keyColumns, isCaptured: isCaptured,
            columnFacts: columnFacts, schemaVersion: schemaVersion, partitionRoot: partitionRoot, mask: mask)
    }

    /// Resolves key columns and user-defined types from the catalog; tables
    /// the filter skips need neither.
    convenience init(relation: Relation, catalog: CatalogLookup, filter: TableFilter) throws(PostgresError) {
        try self.init(
            relation: relation, catalog: catalog,
            captured: filter.selects(schema: relation.namespace, table: relation.name))
    }

    /// Resolves the relation when `captured`; a table not captured needs nothing from the catalog.
    convenience init(
        relation: Relation, catalog: CatalogLookup, captured: Bool, partitionRoot: TableFilter.TableName? = nil
    ) throws(PostgresError) {
        guard captured else {
            self.init(relation: relation, kinds: [], keyColumns: [], isCaptured: false)
            return
        }
        var kinds: [ValueKind] = []
        for column in relation.columns { kinds.append(try catalog.kind(ofType: column.typeOID)) }
        self.init(
            relation: relation, kinds: kinds, keyColumns: try catalog.keyColumns(relationOID: relation.oid),
            isCaptured: true, columnFacts: try catalog.columnFacts(of: relation), partitionRoot: partitionRoot)
    }
}
