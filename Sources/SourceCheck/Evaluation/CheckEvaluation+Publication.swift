// Verdicts on the publication and the tables it publishes: it exists and
// publishes every kind of change, each table keeps full before images, and
// the role can read each table for the snapshot.

extension CheckEvaluation {
    static func publication(
        _ name: String, _ lookup: PublicationLookup, database: String, serverVersion: Int
    ) -> CheckResult {
        let quoted = SQLText.identifier(name)
        let found: PublicationFacts
        switch lookup {
        case .missing(let existing):
            let others =
                existing.isEmpty
                ? "The database has no publications."
                : "Publications there: \(SQLText.list(existing.map(SQLText.identifier)))."
            return CheckResult(
                id: .publication, status: .fail,
                detail: "Publication \(quoted) does not exist in database \(SQLText.identifier(database)). \(others)",
                remediation: """
                    CREATE PUBLICATION \(quoted) FOR ALL TABLES;
                    -- FOR ALL TABLES needs a superuser; to publish chosen tables instead:
                    -- CREATE PUBLICATION \(quoted) FOR TABLE "schema"."table", ...;
                    """)
        case .found(let facts):
            found = facts
        }

        let tables = found.tables.map { SQLText.display($0.schema, $0.name) }
        let listed = tables.isEmpty ? "" : ": " + SQLText.list(tables)
        var detail =
            found.allTables
            ? "Publication \(quoted) is FOR ALL TABLES (\(tables.count) now\(listed)); tables created later are published too."
            : "Publication \(quoted) publishes \(tables.count) table\(tables.count == 1 ? "" : "s")\(listed)."
        var status = CheckResult.Status.pass
        var fixes: [String] = []
        if tables.isEmpty && !found.allTables {
            status = .warn
            detail += " Nothing will be captured until tables are added."
            fixes.append(
                """
                -- add the tables to capture, e.g.:
                -- ALTER PUBLICATION \(quoted) ADD TABLE "schema"."table";
                """)
        }
        let omitted = found.unpublishedOperations
        if !omitted.isEmpty {
            // Leaving out truncate is a common, deliberate choice; leaving out
            // row changes makes the stream wrong.
            status = omitted == ["truncate"] && status == .pass ? .warn : .fail
            detail += " It leaves out \(omitted.joined(separator: ", ")): those changes will not be captured."
            // pubtruncate and `publish = 'truncate'` arrived in 11.
            let all = serverVersion >= 110000 ? "insert, update, delete, truncate" : "insert, update, delete"
            fixes.append("ALTER PUBLICATION \(quoted) SET (publish = '\(all)');")
        }
        return CheckResult(
            id: .publication, status: status, detail: detail,
            remediation: fixes.isEmpty ? nil : fixes.joined(separator: "\n"))
    }

    /// Without FULL, updates and deletes carry no complete old row, and the
    /// events no `before` image (DESIGN.md section 5).
    static func replicaIdentity(_ publication: PublicationFacts) -> CheckResult {
        let lacking = publication.tables.filter { $0.replicaIdentity != .full }
        let laterTables = publication.allTables ? " Tables created later need it too." : ""
        guard !lacking.isEmpty else {
            return CheckResult(
                id: .replicaIdentity, status: .pass,
                detail: "All \(publication.tables.count) published tables have REPLICA IDENTITY FULL.\(laterTables)")
        }
        let names = lacking.map { "\(SQLText.display($0.schema, $0.name)) (\($0.replicaIdentity.description))" }
        return CheckResult(
            id: .replicaIdentity, status: .fail,
            detail: "\(lacking.count) of \(publication.tables.count) published tables lack REPLICA IDENTITY FULL, "
                + "so their updates and deletes would have no complete before image: \(SQLText.list(names)).\(laterTables)",
            remediation:
                lacking
                .map { "ALTER TABLE \(SQLText.qualified($0.schema, $0.name)) REPLICA IDENTITY FULL;" }
                .joined(separator: "\n"))
    }

    /// The snapshot reads every table; reading needs USAGE on the schema
    /// as well as SELECT on the table.
    static func selectPrivilege(_ publication: PublicationFacts, user: String) -> CheckResult {
        let role = SQLText.identifier(user)
        let unreadable = publication.tables.filter { !$0.canSelect || !$0.hasSchemaUsage }
        guard !unreadable.isEmpty else {
            return CheckResult(
                id: .selectPrivilege, status: .pass,
                detail: "\(role) can read all \(publication.tables.count) published tables.")
        }
        var schemas: [String] = []
        for table in unreadable where !table.hasSchemaUsage && !schemas.contains(table.schema) {
            schemas.append(table.schema)
        }
        let grants =
            schemas.map { "GRANT USAGE ON SCHEMA \(SQLText.identifier($0)) TO \(role);" }
            + unreadable.filter { !$0.canSelect }
            .map { "GRANT SELECT ON TABLE \(SQLText.qualified($0.schema, $0.name)) TO \(role);" }
        return CheckResult(
            id: .selectPrivilege, status: .fail,
            detail: "\(role) cannot read \(unreadable.count) of \(publication.tables.count) published tables, "
                + "which the snapshot needs: \(SQLText.list(unreadable.map { SQLText.display($0.schema, $0.name) })).",
            remediation: grants.joined(separator: "\n"))
    }
}
