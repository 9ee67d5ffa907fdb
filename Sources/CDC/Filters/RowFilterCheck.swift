// Row filters checked against the source before they are accepted (a
// filters PUT on a running pipeline), so a filter that would be refused at
// the pipeline's start, or that Postgres would accept and then make the
// table's own UPDATEs fail over, is a 422 instead: the same rules as
// `ManagedPublication.rowFilterSQL`, and the rendered SQL tried once
// (`LIMIT 0`) for values and operators the columns' types refuse.

import PostgresReplication

public enum RowFilterCheck {
    /// What is wrong with each refused row filter, by `schema.table`. A
    /// table that does not exist (yet) is not checked. Throws when Postgres
    /// cannot be reached.
    public static func problems(_ rows: [String: RowCondition], source: ConnectionSettings, timeout: Duration?)
        throws -> [(table: String, message: String)]
    {
        guard !rows.isEmpty else { return [] }
        let connection = try PostgresConnection(
            settings: source, mode: .sql, applicationName: "popsink-pg row filter check")
        connection.queryTimeout = timeout
        guard connection.serverVersion >= 150000 else {
            return rows.keys.sorted().map { ($0, "row filters need PostgreSQL 15 or later") }
        }
        var problems: [(table: String, message: String)] = []
        for (name, condition) in rows.sorted(by: { $0.key < $1.key }) {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let table = QualifiedName(schema: parts[0], table: parts[1])
            do {
                guard let sql = try ManagedPublication.rowFilterSQL(condition, of: table, connection: connection)
                else { continue }
                _ = try connection.query("SELECT 1 FROM \(table.quoted) WHERE \(sql) LIMIT 0")
            } catch let error as PipelineError {
                problems.append((name, error.message + (error.remediation.map { " (\($0))" } ?? "")))
            } catch let error as PostgresError where error.sqlState != nil && error.sqlState?.hasPrefix("08") == false {
                problems.append((name, "\(error.message) (SQLSTATE \(error.sqlState!))"))
            }
        }
        return problems
    }
}
