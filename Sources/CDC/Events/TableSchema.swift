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
    /// `"schema":"…","table":"…",` for the event's source block.
    let tableMembers: [UInt8]

    init(relation: Relation, kinds: [ValueKind], keyColumns: [String], isCaptured: Bool) {
        self.relation = relation
        self.kinds = kinds
        let byName = keyColumns.compactMap { name in relation.columns.firstIndex { $0.name == name } }
        keyIndexes = byName.isEmpty
            ? relation.columns.indices.filter { relation.columns[$0].isKey }
            : byName
        self.isCaptured = isCaptured
        columnKeys = relation.columns.map { JSONWriter.encodedKey($0.name) }
        var members = JSONWriter()
        members.beginObject()
        members.key("schema")
        members.string(relation.namespace)
        members.key("table")
        members.string(relation.name)
        tableMembers = Array(members.bytes.dropFirst()) + [UInt8(ascii: ",")]
    }

    /// Resolves key columns and user-defined types from the catalog; tables
    /// the filter skips need neither.
    convenience init(relation: Relation, catalog: CatalogLookup, filter: TableFilter) throws(PostgresError) {
        let captured = filter.selects(schema: relation.namespace, table: relation.name)
        guard captured else {
            self.init(relation: relation, kinds: [], keyColumns: [], isCaptured: false)
            return
        }
        var kinds: [ValueKind] = []
        for column in relation.columns { kinds.append(try catalog.kind(ofType: column.typeOID)) }
        self.init(
            relation: relation, kinds: kinds, keyColumns: try catalog.keyColumns(relationOID: relation.oid),
            isCaptured: true)
    }
}
