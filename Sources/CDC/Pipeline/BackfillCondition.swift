// A backfill's conditions, made SQL once when the request is accepted: each
// table's structured condition (`RowCondition`) is checked against the
// table's columns in the catalog and rendered with values quoted by libpq and
// cast to the columns' types. The text stored with the backfill is that
// rendering, read into its chunk queries as `WHERE <page range> AND (<it>)`.
// It is tried once (`LIMIT 0`) before it is accepted, so a value its
// column's type cannot read (`"abc"` for an integer) or an operator the type
// lacks (`like` on an integer) is refused with the request, not met by the
// backfill half way.

import PostgresReplication

public enum BackfillCondition {
    /// A condition that does not fit its table: which table (and column),
    /// why, and the SQLSTATE when Postgres refused it.
    public struct Refusal: Error, Sendable, Equatable {
        public let table: String
        public let column: String?
        public let message: String
        public let sqlState: String?
    }

    /// The SQL of each condition (by `schema.table`), checked on a connection
    /// of its own, or the refusal of the first one that does not fit. Throws
    /// when Postgres cannot be reached (no SQLSTATE, or class 08).
    public static func render(
        _ conditions: [String: RowCondition], source: ConnectionSettings, timeout: Duration? = .seconds(60)
    ) throws -> Result<[String: String], Refusal> {
        guard !conditions.isEmpty else { return .success([:]) }
        let connection = try PostgresConnection(
            settings: source, mode: .sql, applicationName: "popsink-pg backfill check")
        connection.queryTimeout = timeout
        var rendered: [String: String] = [:]
        for (table, condition) in conditions.sorted(by: { $0.key < $1.key }) {
            let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2,
                let columns = try TableColumns.read(schema: parts[0], table: parts[1], connection: connection)
            else {
                return .failure(
                    Refusal(table: table, column: nil, message: "there is no table \(table)", sqlState: nil))
            }
            guard try hasKey(parts, connection: connection) else {
                return .failure(
                    Refusal(
                        table: table, column: nil,
                        message: "\(table) has neither a primary key nor a replica identity index, so a backfill "
                            + "reloads it whole and its reload marker replaces a consumer's copy of the table: with a "
                            + "condition only the matching rows would be left. Ask for it without where, or give the "
                            + "table a primary key", sqlState: nil))
            }
            let sql: String
            do {
                sql = try condition.sql(on: columns) { try connection.escapeLiteral($0) }
            } catch let mismatch as RowCondition.Mismatch {
                return .failure(
                    Refusal(table: table, column: mismatch.column, message: mismatch.message, sqlState: nil))
            }
            do throws(PostgresError) {
                _ = try connection.query("SELECT 1 FROM \(qualified(parts)) WHERE \(sql) LIMIT 0")
            } catch {
                guard let sqlState = error.sqlState, !sqlState.hasPrefix("08") else { throw error }
                return .failure(Refusal(table: table, column: nil, message: error.message, sqlState: sqlState))
            }
            rendered[table] = sql
        }
        return .success(rendered)
    }

    /// Whether the watermark load has a key to read the table by (`WatermarkSnapshot`'s rule).
    private static func hasKey(_ parts: [String], connection: PostgresConnection) throws(PostgresError) -> Bool {
        let rows = try connection.query(
            """
            SELECT EXISTS (
                SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $1 AND c.relname = $2 AND (i.indisprimary OR i.indisreplident))
            """, parts
        ).rows
        return rows.first?[0] == "t"
    }

    private static func qualified(_ parts: [String]) -> String {
        parts.map(PostgresConnection.quoteIdentifier).joined(separator: ".")
    }
}
