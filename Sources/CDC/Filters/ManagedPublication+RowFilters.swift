// The row filters of a managed publication: rendered from the pipeline's
// structured conditions against each table's catalog entry, refused before
// Postgres sees them when they would break the source (a filter outside the
// replica identity makes the table's own UPDATEs and DELETEs fail), and set
// again at the start of each session.

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
            rendered[table] = try Self.rowFilterSQL(condition, of: table, connection: connection)
        }
        return rendered
    }

    /// The SQL of `condition` as the row filter of `table`, or nil when
    /// there is no such table. Throws a `PipelineError` when it reads a
    /// column the table lacks or one outside its replica identity.
    static func rowFilterSQL(_ condition: RowCondition, of table: QualifiedName, connection: PostgresConnection)
        throws -> String?
    {
        guard let columns = try TableColumns.read(schema: table.schema, table: table.table, connection: connection)
        else { return nil }
        let change = "Change the row filter of \(table.dotted) (PUT /v1/pipelines/{id}/filters, row_filters)"
        if let problem = condition.identityProblem(on: columns) {
            throw PipelineError(
                .invalidConfiguration, "cannot set the row filter of \(table.dotted): \(problem)",
                remediation: "Make the table's replica identity cover every column "
                    + "(ALTER TABLE \(table.quoted) REPLICA IDENTITY FULL;), or \(change.lowercased()) to "
                    + "read only columns of its replica identity.")
        }
        do {
            return try condition.sql(on: columns) { try connection.escapeLiteral($0) }
        } catch let mismatch as RowCondition.Mismatch {
            throw PipelineError(
                .invalidConfiguration, "cannot set the row filter of \(table.dotted): \(mismatch.message)",
                remediation: change + ".")
        }
    }

    /// Sets the row filter of every table of `tables` (none where `filters`
    /// has none) with one SET TABLE. Postgres leaves a table whose filter is
    /// unchanged as it is (no catalog write), so a session start with the
    /// same filters changes nothing. Skipped when no table has or had one.
    func setRowFilters(_ tables: [QualifiedName], filters: [QualifiedName: String], connection: PostgresConnection)
        throws(PostgresError)
    {
        guard connection.serverVersion >= 150000, !tables.isEmpty else { return }
        if filters.isEmpty {
            let filtered = try connection.query(
                """
                SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
                WHERE p.pubname = $1 AND pr.prqual IS NOT NULL
                """, [name])
            guard !filtered.rows.isEmpty else { return }
        }
        let list = ManagedPublicationPlan.list(tables, filters: filters)
        try connection.query("ALTER PUBLICATION \(PostgresConnection.quoteIdentifier(name)) SET TABLE \(list)")
    }
}
