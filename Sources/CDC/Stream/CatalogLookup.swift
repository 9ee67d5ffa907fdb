// Facts about tables and types that the pgoutput stream does not carry,
// read from the catalog over the pipeline's SQL connection: a table's primary
// key (with REPLICA IDENTITY FULL pgoutput marks every column as key), and
// what a user-defined type (domain, enum, array of either) is made of.

import PgOutput
import PostgresReplication

/// Catalog queries for the stream, cached per OID.
final class CatalogLookup {
    let connection: PostgresConnection
    private var kinds: [UInt32: ValueKind] = [:]

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Column names of the table's primary key, else of its replica identity
    /// index, in index order; empty when it has neither.
    func keyColumns(relationOID: UInt32) throws(PostgresError) -> [String] {
        let result = try connection.query(
            """
            SELECT a.attname, i.indisprimary
            FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = $1::oid AND (i.indisprimary OR i.indisreplident)
            ORDER BY i.indisprimary DESC, i.indexrelid, k.position
            """, [String(relationOID)])
        let primary = result.rows.filter { $0[1] == "t" }.compactMap { $0[0] }
        return primary.isEmpty ? result.rows.compactMap { $0[0] } : primary
    }

    /// How values of type `oid` convert to JSON; built-in types need no query.
    func kind(ofType oid: UInt32) throws(PostgresError) -> ValueKind {
        if let builtin = ValueKind.builtin(oid: oid) { return builtin }
        if let known = kinds[oid] { return known }
        // An array's elements are split on the element type's delimiter
        // (`;` for box and domains over it, `,` for everything else).
        let result = try connection.query(
            """
            SELECT t.typtype, t.typbasetype, t.typelem, t.typcategory, e.typdelim
            FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem
            WHERE t.oid = $1::oid
            """, [String(oid)])
        var kind = ValueKind.other
        if let type = result.value("typtype") {
            let base = result.value("typbasetype").flatMap { UInt32($0) } ?? 0
            let element = result.value("typelem").flatMap { UInt32($0) } ?? 0
            if type == "d" && base != 0 {
                kind = try self.kind(ofType: base)
            } else if result.value("typcategory") == "A" && element != 0 {
                let delimiter = result.value("typdelim")?.utf8.first ?? UInt8(ascii: ",")
                kind = .array(element: try self.kind(ofType: element), delimiter: delimiter)
            }
        }
        kinds[oid] = kind
        return kind
    }
}
