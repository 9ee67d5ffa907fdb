// A publication popsink owns for one pipeline (`"publication": {"mode":
// "managed"}`, `run --managed-publication`): it holds exactly the tables the
// filters select, so Postgres neither decodes nor sends the changes of the
// others. The filters still decide in the client too; the publication only
// keeps the excluded tables' changes from leaving the server.
//
// Order is what keeps the stream exact. A table is added to the publication
// as soon as the filters select it; the table-set watch then finds it in
// `pg_publication_tables` and announces and backfills it like a table a user
// added to their own publication. A table is removed only once it has left
// the captured set the store recorded (its `capture: stopped` marker went
// through): until then the stream still captures it, and must still receive
// its changes, so its stop LSN is the marker's.
//
// Row filters (PostgreSQL 15+, `TableFilter.rows`) go into the publication as
// `ADD TABLE t WHERE (…)`, rendered from their structured form
// (`RowCondition+SQL.swift`). Postgres then sends a change only when its row
// matches: an UPDATE whose old row matched and new row does not arrives as a
// DELETE, one the other way as an INSERT. Filters change with the pipeline's
// filters, which restart its session: the first step of a session sets every
// table's filter again (`SET TABLE`, which leaves unchanged ones alone).

import PostgresReplication

/// Whose publication a pipeline reads.
public enum PublicationMode: String, Sendable, Codable, CaseIterable {
    /// The user's publication, by name (`popsink` unless told otherwise).
    case existing
    /// One popsink creates, keeps in step with the filters and drops with the pipeline.
    case managed
}

/// The statements that bring a managed publication to the tables wanted: a pure plan.
struct ManagedPublicationPlan: Equatable {
    /// `schema.table` names to add.
    var add: [QualifiedName] = []
    var drop: [QualifiedName] = []
    /// The row filter (SQL) of each table added with one.
    var filters: [QualifiedName: String] = [:]

    var isEmpty: Bool { add.isEmpty && drop.isEmpty }

    /// What `published` lacks of `selected`, and what it holds that is
    /// neither selected nor still captured (`keep`).
    init(
        selected: [QualifiedName], published: [QualifiedName], keep: Set<String>,
        filters: [QualifiedName: String] = [:]
    ) {
        let have = Set(published)
        let want = Set(selected)
        add = selected.filter { !have.contains($0) }.sorted()
        drop = published.filter { !want.contains($0) && !keep.contains($0.dotted) }.sorted()
        self.filters = filters.filter { add.contains($0.key) }
    }

    func statements(publication: String) -> [String] {
        let name = PostgresConnection.quoteIdentifier(publication)
        var sql: [String] = []
        if !add.isEmpty {
            sql.append("ALTER PUBLICATION \(name) ADD TABLE \(Self.list(add, filters: filters))")
        }
        if !drop.isEmpty {
            sql.append("ALTER PUBLICATION \(name) DROP TABLE \(drop.map(\.quoted).joined(separator: ", "))")
        }
        return sql
    }

    /// `"s"."t" WHERE (…), "s"."u"`: tables, each with its row filter.
    static func list(_ tables: [QualifiedName], filters: [QualifiedName: String]) -> String {
        tables.map { table in filters[table].map { "\(table.quoted) WHERE (\($0))" } ?? table.quoted }
            .joined(separator: ", ")
    }
}

/// A table's schema and name, unquoted.
struct QualifiedName: Hashable, Comparable, Sendable {
    let schema: String
    let table: String

    var dotted: String { schema + "." + table }
    var quoted: String {
        PostgresConnection.quoteIdentifier(schema) + "." + PostgresConnection.quoteIdentifier(table)
    }

    static func < (a: Self, b: Self) -> Bool { (a.schema, a.table) < (b.schema, b.table) }
}

/// Creates and keeps in step the managed publication of one pipeline, over its SQL connection.
struct ManagedPublication {
    let name: String
    let filter: TableFilter

    /// The tables the filter selects in the database now: permanent ordinary
    /// and partitioned tables outside the system schemas. A partition is left
    /// out when its root is selected: with `publish_via_partition_root` the
    /// root publishes its partitions' changes as its own, including those of
    /// partitions attached later.
    static func selectedTables(filter: TableFilter, connection: PostgresConnection) throws(PostgresError)
        -> [QualifiedName]
    {
        let viaRoot = connection.serverVersion >= 130000
        let rows = try connection.query(
            """
            SELECT n.nspname, c.relname, \(viaRoot ? "rn.nspname, r.relname" : "NULL, NULL")
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            \(viaRoot ? """
                LEFT JOIN pg_class r ON c.relispartition AND r.oid = pg_partition_root(c.oid)
                LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
                """ : "")
            WHERE c.relkind IN (\(viaRoot ? "'r', 'p'" : "'r'")) AND c.relpersistence = 'p'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
            """
        ).rows
        return rows.compactMap { row -> QualifiedName? in
            guard let schema = row[0], let table = row[1], filter.selects(schema: schema, table: table) else {
                return nil
            }
            if let rootSchema = row[2], let root = row[3], filter.selects(schema: rootSchema, table: root) {
                return nil
            }
            return QualifiedName(schema: schema, table: table)
        }.sorted()
    }

    /// The tables the publication holds now; nil when it does not exist.
    /// Throws when it publishes all tables or whole schemas: popsink did not
    /// make it, and Postgres refuses to add single tables to it.
    func publishedTables(_ connection: PostgresConnection) throws -> [QualifiedName]? {
        let schemas =
            connection.serverVersion >= 150000
            ? "(SELECT count(*) FROM pg_publication_namespace pn WHERE pn.pnpubid = p.oid)" : "0"
        guard
            let row = try connection.query(
                "SELECT p.puballtables, \(schemas) FROM pg_publication p WHERE p.pubname = $1", [name]
            ).rows.first
        else { return nil }
        if row[0] == "t" || (row[1] ?? "0") != "0" {
            let kind = row[0] == "t" ? "FOR ALL TABLES" : "FOR TABLES IN SCHEMA"
            throw PipelineError(
                .invalidConfiguration,
                "the managed publication \(name) exists and was created \(kind): popsink cannot keep it holding "
                    + "exactly the tables the filters select",
                remediation: "Drop it (DROP PUBLICATION \(PostgresConnection.quoteIdentifier(name));) and start the "
                    + "pipeline again: popsink creates it FOR TABLE with the tables the filters select. Or read it "
                    + "as it is, with \"publication\": {\"mode\": \"existing\", \"name\": \"\(name)\"}.")
        }
        // pg_publication_rel, not pg_publication_tables: the latter shows a
        // partitioned root's partitions (or the root) depending on the option.
        return try connection.query(
            """
            SELECT n.nspname, c.relname FROM pg_publication_rel pr
            JOIN pg_publication p ON p.oid = pr.prpubid
            JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE p.pubname = $1
            """, [name]
        ).rows.compactMap { row in
            guard let schema = row[0], let table = row[1] else { return nil }
            return QualifiedName(schema: schema, table: table)
        }.sorted()
    }

    /// Creates the publication when it is missing, else adds what the filter
    /// selects and drops what is neither selected nor in `keep` (`schema.table`
    /// names still captured). With `syncRowFilters` the row filters of the
    /// tables already published are brought in step too. Returns the plan carried out.
    @discardableResult
    func reconcile(_ connection: PostgresConnection, keep: Set<String>, syncRowFilters: Bool = true)
        throws(PipelineError) -> ManagedPublicationPlan
    {
        do {
            let selected = try Self.selectedTables(filter: filter, connection: connection)
            let filters = try rowFilters(of: selected, connection: connection)
            guard let published = try publishedTables(connection) else {
                try connection.query(
                    createStatement(selected, serverVersion: connection.serverVersion, filters: filters))
                return ManagedPublicationPlan(selected: selected, published: [], keep: [], filters: filters)
            }
            let plan = ManagedPublicationPlan(selected: selected, published: published, keep: keep, filters: filters)
            for statement in plan.statements(publication: name) { try connection.query(statement) }
            if syncRowFilters {
                let now = published.filter { !plan.drop.contains($0) } + plan.add
                try setRowFilters(now.sorted(), filters: filters, connection: connection)
            }
            return plan
        } catch let error as PipelineError {
            throw error
        } catch let error as PostgresError {
            throw failure(error, connection: connection)
        } catch {
            throw PipelineError(.invalidConfiguration, "cannot maintain the managed publication \(name): \(error)")
        }
    }

    func createStatement(_ tables: [QualifiedName], serverVersion: Int, filters: [QualifiedName: String] = [:])
        -> String
    {
        var sql = "CREATE PUBLICATION \(PostgresConnection.quoteIdentifier(name))"
        if !tables.isEmpty { sql += " FOR TABLE " + ManagedPublicationPlan.list(tables, filters: filters) }
        // Every kind of change (the default), and partitions' changes under
        // their root's name where a root is published (13+).
        if serverVersion >= 130000 { sql += " WITH (publish_via_partition_root = true)" }
        return sql
    }

    /// Drops the publication if it exists.
    static func drop(_ name: String, connection: PostgresConnection) throws(PostgresError) {
        try connection.query("DROP PUBLICATION IF EXISTS \(PostgresConnection.quoteIdentifier(name))")
    }

    /// A refusal of the server as the pipeline reports it: a privilege
    /// missing (SQLSTATE 42501) names the grants that fix it.
    private func failure(_ error: PostgresError, connection: PostgresConnection) -> PipelineError {
        guard error.sqlState == "42501" else { return PipelineError(error) }
        return PipelineError(
            .invalidConfiguration,
            "cannot maintain the managed publication \(name): \(error.message)", sqlState: error.sqlState,
            remediation: Self.privilegeRemediation)
    }

    static let privilegeRemediation =
        "A managed publication needs CREATE on the database (GRANT CREATE ON DATABASE <db> TO <role>;) and "
        + "ownership of every table the filters select (ALTER TABLE <table> OWNER TO <role>;, or "
        + "GRANT <table owner> TO <role>;). `popsink-pg check --managed-publication` lists what is missing. "
        + "Or use an existing publication (\"publication\": {\"mode\": \"existing\"})."
}
