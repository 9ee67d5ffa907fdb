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

    var isEmpty: Bool { add.isEmpty && drop.isEmpty }

    /// What `published` lacks of `selected`, and what it holds that is
    /// neither selected nor still captured (`keep`).
    init(selected: [QualifiedName], published: [QualifiedName], keep: Set<String>) {
        let have = Set(published)
        let want = Set(selected)
        add = selected.filter { !have.contains($0) }.sorted()
        drop = published.filter { !want.contains($0) && !keep.contains($0.dotted) }.sorted()
    }

    func statements(publication: String) -> [String] {
        let name = PostgresConnection.quoteIdentifier(publication)
        var sql: [String] = []
        if !add.isEmpty {
            sql.append("ALTER PUBLICATION \(name) ADD TABLE \(add.map(\.quoted).joined(separator: ", "))")
        }
        if !drop.isEmpty {
            sql.append("ALTER PUBLICATION \(name) DROP TABLE \(drop.map(\.quoted).joined(separator: ", "))")
        }
        return sql
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
    func publishedTables(_ connection: PostgresConnection) throws(PostgresError) -> [QualifiedName]? {
        guard !(try connection.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [name])).rows.isEmpty else {
            return nil
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
    /// names still captured). Returns the plan carried out.
    @discardableResult
    func reconcile(_ connection: PostgresConnection, keep: Set<String>) throws(PipelineError) -> ManagedPublicationPlan
    {
        do throws(PostgresError) {
            let selected = try Self.selectedTables(filter: filter, connection: connection)
            guard let published = try publishedTables(connection) else {
                try connection.query(createStatement(selected, serverVersion: connection.serverVersion))
                return ManagedPublicationPlan(selected: selected, published: [], keep: [])
            }
            let plan = ManagedPublicationPlan(selected: selected, published: published, keep: keep)
            for statement in plan.statements(publication: name) { try connection.query(statement) }
            return plan
        } catch {
            throw failure(error, connection: connection)
        }
    }

    func createStatement(_ tables: [QualifiedName], serverVersion: Int) -> String {
        var sql = "CREATE PUBLICATION \(PostgresConnection.quoteIdentifier(name))"
        if !tables.isEmpty { sql += " FOR TABLE " + tables.map(\.quoted).joined(separator: ", ") }
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
