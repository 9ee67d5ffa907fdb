// A row condition as SQL, for the statements that read or publish the rows
// it selects: `"column" op 'value'::type`, joined by AND.
//
// Why a quoted literal and not a bind parameter: the backfill's chunks are
// read with `COPY (SELECT …) TO STDOUT`, and row filters are set with
// `ALTER PUBLICATION … WHERE (…)`; neither statement takes parameters. The
// value is therefore quoted by libpq (PQescapeLiteral, which knows the
// connection's encoding and standard_conforming_strings) and cast to the
// column's type, so it is always one typed constant: no value can end the
// literal, and a value the type cannot read is an error, not other SQL. The
// column is a quoted identifier checked against the catalog, the operator
// one of a fixed list. The cast leaves out the type modifier: a cast to
// numeric(10,2) or varchar(3) would round or cut the value and so change
// what `>=` or `like` selects.

import PostgresReplication

extension RowCondition {
    /// Why a condition does not fit its table.
    public struct Mismatch: Error, Sendable, Equatable {
        public let table: String
        public let column: String?
        public let message: String
    }

    /// The SQL of the condition on `table`; `literal` quotes a value as a SQL
    /// string literal (`PostgresConnection.escapeLiteral`).
    public func sql(on table: TableColumns, literal: (String) throws -> String) throws -> String {
        try predicates.map { predicate in
            guard let column = table.column(predicate.column) else {
                throw Mismatch(
                    table: table.table, column: predicate.column,
                    message: "\(table.table) has no column \"\(predicate.column)\"; its columns are "
                        + table.columns.map(\.name).joined(separator: ", "))
            }
            let name = PostgresConnection.quoteIdentifier(column.name)
            func typed(_ value: RowPredicate.Value) throws -> String { try literal(value.text) + "::" + column.type }
            switch predicate.op {
            case .isNull: return "\(name) IS NULL"
            case .isNotNull: return "\(name) IS NOT NULL"
            case .in, .notIn:
                let list = try predicate.values.map(typed).joined(separator: ", ")
                return "\(name) \(predicate.op == .in ? "IN" : "NOT IN") (\(list))"
            case .like:
                // A pattern is text whatever the column: `%` cast to an
                // integer would fail as a value, where it is the operator
                // that does not fit.
                return "\(name) LIKE \(try literal(predicate.values[0].text))::text"
            case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
                return "\(name) \(predicate.op.rawValue) \(try typed(predicate.values[0]))"
            }
        }.map { "(\($0))" }.joined(separator: " AND ")
    }

    /// Why the condition cannot be a row filter of `table` in a publication
    /// that publishes updates and deletes, or nil: Postgres then lets the
    /// filter read only columns of the replica identity (all of them under
    /// REPLICA IDENTITY FULL), and otherwise accepts the filter but makes the
    /// table's own UPDATEs and DELETEs fail (SQLSTATE 42P10), on the source.
    public func identityProblem(on table: TableColumns) -> String? {
        guard !table.identityFull else { return nil }
        let outside = columns.filter { table.column($0)?.inIdentity == false }
        guard !outside.isEmpty else { return nil }
        return "the row filter of \(table.table) reads \(outside.map { "\"\($0)\"" }.joined(separator: ", ")), "
            + "outside its replica identity: Postgres would then refuse every UPDATE and DELETE of the table"
    }

}
