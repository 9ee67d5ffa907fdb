// The row filters of a managed publication: rendered from the pipeline's
// structured conditions against each table's catalog entry, refused before
// Postgres sees them when they would break the source (a filter outside the
// replica identity makes the table's own UPDATEs and DELETEs fail), and set
// again at the start of each session, kept only when they changed.

import PostgresReplication

extension ManagedPublication {
    /// The SQL of the row filter of each table of `selected` that has one.
    func rowFilters(of selected: [QualifiedName], connection: PostgresConnection) throws -> [QualifiedName: String] {
        let wanted = selected.compactMap { table in filter.rows[table.dotted].map { (table, $0) } }
        guard !wanted.isEmpty else { return [:] }
        guard connection.serverVersion >= 150000 else {
            throw PipelineError(
                .invalidConfiguration,
                "row filters need PostgreSQL 15 or later; the source runs \(connection.serverVersion / 10000)",
                remediation: "Remove row_filters from the pipeline's filters, or upgrade the source.")
        }
        var rendered: [QualifiedName: String] = [:]
        for (table, condition) in wanted {
            guard let columns = try TableColumns.read(schema: table.schema, table: table.table, connection: connection)
            else { continue }
            let change = "Change the row filter of \(table.dotted) (PUT /v1/pipelines/{id}/filters, row_filters)"
            if let problem = condition.identityProblem(on: columns) {
                throw PipelineError(
                    .invalidConfiguration, "cannot set the row filter of \(table.dotted): \(problem)",
                    remediation: "Make the table's replica identity cover every column "
                        + "(ALTER TABLE \(table.quoted) REPLICA IDENTITY FULL;), or \(change.lowercased()) to "
                        + "read only columns of its replica identity.")
            }
            do {
                rendered[table] = try condition.sql(on: columns) { try connection.escapeLiteral($0) }
            } catch let mismatch as RowCondition.Mismatch {
                throw PipelineError(
                    .invalidConfiguration, "cannot set the row filter of \(table.dotted): \(mismatch.message)",
                    remediation: change + ".")
            }
        }
        return rendered
    }

    /// Sets the row filter of every table of `tables` (none where `filters`
    /// has none) in one transaction, and commits it only when Postgres's
    /// rendering of the publication's filters changed: so a session start
    /// with the same filters changes nothing, and the walsender's caches stay.
    func setRowFilters(_ tables: [QualifiedName], filters: [QualifiedName: String], connection: PostgresConnection)
        throws(PostgresError)
    {
        guard connection.serverVersion >= 150000, !tables.isEmpty else { return }
        let current = """
            SELECT n.nspname, c.relname, pg_get_expr(pr.prqual, pr.prrelid) FROM pg_publication_rel pr
            JOIN pg_publication p ON p.oid = pr.prpubid
            JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE p.pubname = $1 ORDER BY 1, 2
            """
        try connection.query("BEGIN")
        do throws(PostgresError) {
            let before = try connection.query(current, [name]).rows
            if filters.isEmpty, before.allSatisfy({ $0[2] == nil }) {
                try connection.query("ROLLBACK")
                return
            }
            let list = ManagedPublicationPlan.list(tables, filters: filters)
            try connection.query("ALTER PUBLICATION \(PostgresConnection.quoteIdentifier(name)) SET TABLE \(list)")
            let after = try connection.query(current, [name]).rows
            try connection.query(before == after ? "ROLLBACK" : "COMMIT")
        } catch {
            _ = try? connection.query("ROLLBACK")
            throw error
        }
    }
}
