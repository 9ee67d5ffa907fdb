// The initial load must read every row. A row-level security policy that
// applies to the pipeline's role would silently hide some, and the stream
// would then carry changes of rows the load never showed. With
// `row_security = off` Postgres refuses, instead of filtering, any query a
// policy would affect (a superuser, the table's owner without FORCE, and a
// BYPASSRLS role are not affected); the planner asks once per table before
// the load starts, so the refusal names the table and the fix.
// See https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-ROW-SECURITY

import PostgresReplication

enum RowSecurity {
    static let off = "SET LOCAL row_security = off"
    /// For connections that read outside one transaction (the resumed snapshot's pieces).
    static let offForSession = "SET row_security = off"

    /// Throws, naming the table, when a policy would hide rows of one of `tables` from the load.
    static func refuseHiddenRows(_ connection: PostgresConnection, tables: [String]) throws {
        try connection.query(off)
        for table in tables {
            do throws(PostgresError) {
                try connection.query("SELECT FROM \(table) LIMIT 0")
            } catch {
                // 42501 is also a missing SELECT privilege, which speaks for itself.
                guard error.sqlState == "42501", error.description.contains("row-level security") else { throw error }
                try? connection.query("ROLLBACK")
                let role = (try? connection.query("SELECT current_user").rows.first?.first) ?? nil
                throw PipelineError(
                    .postgres,
                    "row-level security would hide rows of \(table) from the initial load: \(error.description)",
                    sqlState: error.sqlState,
                    remediation: "let the pipeline's role read every row: ALTER ROLE \(role ?? "<role>") BYPASSRLS "
                        + "(as a superuser), or disable the table's policies (ALTER TABLE \(table) DISABLE ROW "
                        + "LEVEL SECURITY)")
            }
        }
    }
}
