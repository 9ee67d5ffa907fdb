// What the registry reports of each column besides pgoutput's Relation
// message: the type's name with its modifiers, read for the message's own
// (type, modifier) pairs so it matches the WAL being decoded, and nullability
// and the default, and the attribute number, read from the catalog as it is
// now (looked up by name, so a column a later DDL renamed or dropped has them
// unknown). pgoutput lists columns in attribute order: numbers that do not
// rise with the list belong to a catalog that moved on (names swapped since),
// and are dropped rather than trusted.

import Foundation
import PgOutput
import PostgresReplication

extension CatalogLookup {
    struct ColumnFacts: Sendable {
        let typeName: String
        let isNullable: Bool?
        let defaultExpression: String?
        var attnum: Int16? = nil
    }

    /// Facts about `relation`'s columns, in its column order.
    func columnFacts(of relation: Relation) throws(PostgresError) -> [ColumnFacts] {
        guard !relation.columns.isEmpty else { return [] }
        let oids = "{" + relation.columns.map { String($0.typeOID) }.joined(separator: ",") + "}"
        let modifiers = "{" + relation.columns.map { String($0.typeModifier) }.joined(separator: ",") + "}"
        let names = "{" + relation.columns.map { Self.arrayElement($0.name) }.joined(separator: ",") + "}"
        let result = try connection.query(
            """
            SELECT format_type(c.type, c.modifier), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attnum
            FROM unnest($2::oid[], $3::int4[], $4::text[]) WITH ORDINALITY AS c(type, modifier, name, position)
            LEFT JOIN pg_attribute a ON a.attrelid = $1::oid AND a.attname = c.name AND a.attnum > 0
                AND NOT a.attisdropped
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            ORDER BY c.position
            """, [String(relation.oid), oids, modifiers, names])
        var facts = result.rows.map { row in
            ColumnFacts(
                typeName: row[0] ?? "", isNullable: row[1].map { $0 != "t" }, defaultExpression: row[2],
                attnum: row[3].flatMap { Int16($0) })
        }
        let numbers = facts.map(\.attnum)
        let rising = zip(numbers, numbers.dropFirst()).allSatisfy { pair in
            guard let before = pair.0, let after = pair.1 else { return false }
            return before < after
        }
        if !rising || numbers.contains(nil) {
            for index in facts.indices { facts[index].attnum = nil }
        }
        return facts
    }

    /// A text array literal's element: quoted, with `"` and `\` escaped.
    private static func arrayElement(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
