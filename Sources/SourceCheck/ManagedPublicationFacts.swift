// What a managed publication (one popsink creates and keeps in step with the
// filters) needs of the role, read from the catalog: CREATE on the database
// to create it, ownership of it once it exists, and ownership of every table
// the filters select, since only a table's owner may add it to a publication.

import PostgresReplication

/// Which tables a managed publication would hold: the pipeline's filters, as a predicate on schema and table.
public struct ManagedPublicationScope: Sendable {
    public let selects: @Sendable (_ schema: String, _ table: String) -> Bool

    public init(selects: @escaping @Sendable (_ schema: String, _ table: String) -> Bool) {
        self.selects = selects
    }
}

/// The role's standing towards a managed publication.
struct ManagedPublicationFacts: Sendable, Equatable {
    var canCreate: Bool
    /// nil when the publication does not exist yet.
    var ownsPublication: Bool?
    /// The tables the filters select, with the facts the table checks need.
    var tables: [PublishedTable]
    /// Selected tables the role does not own, with their owners.
    var unowned: [(schema: String, name: String, owner: String)]

    static func == (a: Self, b: Self) -> Bool {
        a.canCreate == b.canCreate && a.ownsPublication == b.ownsPublication && a.tables == b.tables
            && a.unowned.map { "\($0.schema).\($0.name):\($0.owner)" }
                == b.unowned.map { "\($0.schema).\($0.name):\($0.owner)" }
    }

    static func read(
        _ publication: String, scope: ManagedPublicationScope, connection: PostgresConnection
    ) throws(PostgresError) -> ManagedPublicationFacts {
        let rights = try connection.query(
            """
            SELECT has_database_privilege(current_database(), 'CREATE') AS can_create,
                   (SELECT pg_has_role(pubowner, 'USAGE') FROM pg_publication WHERE pubname = $1) AS owns
            """, [publication])
        let rows = try connection.query(
            """
            SELECT n.nspname, c.relname, c.relreplident, has_table_privilege(c.oid, 'SELECT'),
                   has_schema_privilege(n.oid, 'USAGE'), pg_has_role(c.relowner, 'USAGE'), pg_get_userbyid(c.relowner)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
            ORDER BY 1, 2
            """
        ).rows.filter { row in scope.selects(row[0] ?? "", row[1] ?? "") }
        return ManagedPublicationFacts(
            canCreate: rights.value("can_create") == "t",
            ownsPublication: rights.value("owns").map { $0 == "t" },
            tables: rows.map { row in
                PublishedTable(
                    schema: row[0] ?? "", name: row[1] ?? "",
                    replicaIdentity: ReplicaIdentity(rawValue: row[2] ?? "") ?? .default, canSelect: row[3] == "t",
                    hasSchemaUsage: row[4] == "t")
            },
            unowned: rows.filter { $0[5] != "t" }.map { ($0[0] ?? "", $0[1] ?? "", $0[6] ?? "") })
    }
}
