// Reads `ServerFacts` from a live server: the only part of the checker that
// does I/O.
//
// Everything is read with catalog queries any role may run (pg_roles,
// pg_publication_tables, pg_replication_slots, pg_stat_replication), so a
// role missing privileges still gets a complete report. The replication
// connection is tried last: while it is open it is itself a WAL sender and
// would be counted in pg_stat_replication.

import PostgresReplication

enum FactReader {
    /// Connects and reads every fact; a failure to connect is the result.
    static func read(
        settings: ConnectionSettings, publication: String, managed: ManagedPublicationScope? = nil
    ) -> Result<ServerFacts, PostgresError> {
        Result { () throws(PostgresError) in
            let connection = try PostgresConnection(
                settings: bounded(settings), mode: .sql, applicationName: applicationName)
            var facts = try readFacts(connection, publication: publication)
            facts.ddlCapture = Result { () throws(PostgresError) in try ddlCaptureInstalled(connection) }
            facts.security = connection.security
            if let managed {
                facts.managedPublication = Result { () throws(PostgresError) in
                    try ManagedPublicationFacts.read(publication, scope: managed, connection: connection)
                }
            }
            facts.replicationConnection = probeReplication(settings)
            return facts
        }
    }

    private static func readFacts(_ connection: PostgresConnection, publication: String) throws(PostgresError)
        -> ServerFacts
    {
        let session = try connection.query(
            "SELECT current_user AS \"user\", current_database() AS database, current_setting('server_version') AS version"
        )
        return ServerFacts(
            versionNumber: connection.serverVersion,
            version: session.value("version") ?? "",
            user: session.value("user") ?? "",
            database: session.value("database") ?? "",
            walLevel: Result { () throws(PostgresError) in try walLevel(connection) },
            role: Result { () throws(PostgresError) in try role(connection) },
            replicationConnection: .success(()),  // tried by `read` once the counting is done
            publication: Result { () throws(PostgresError) in try lookUp(publication, connection) },
            slots: Result { () throws(PostgresError) in try slots(connection) },
            walSenders: Result { () throws(PostgresError) in try walSenders(connection) })
    }

    /// The event triggers `POST /v1/sources/{id}/ddl-capture` creates (CDC's `DDLCapture`).
    private static func ddlCaptureInstalled(_ connection: PostgresConnection) throws(PostgresError) -> Bool {
        let found = try connection.query(
            """
            SELECT count(*) AS triggers FROM pg_event_trigger
            WHERE evtname IN ('popsink_ddl_command_end', 'popsink_ddl_sql_drop') AND evtenabled <> 'D'
            """)
        return found.value("triggers") == "2"
    }

    private static func walLevel(_ connection: PostgresConnection) throws(PostgresError) -> WalLevel {
        let result = try connection.query("SELECT setting, pending_restart FROM pg_settings WHERE name = 'wal_level'")
        return WalLevel(setting: result.value("setting") ?? "", pendingRestart: result.value("pending_restart") == "t")
    }

    private static func role(_ connection: PostgresConnection) throws(PostgresError) -> RoleFacts {
        let own = try connection.query("SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user")
        // pg_has_role(..., 'MEMBER') follows memberships transitively.
        let granted = try connection.query(
            """
            SELECT r.rolname FROM pg_roles r
            WHERE (r.rolreplication OR r.rolsuper) AND r.rolname <> current_user
              AND pg_has_role(current_user, r.oid, 'MEMBER')
            ORDER BY r.rolname
            """)
        return RoleFacts(
            isSuperuser: own.value("rolsuper") == "t",
            hasReplication: own.value("rolreplication") == "t",
            replicationRolesViaMembership: granted.rows.compactMap { $0[0] })
    }

    private static func lookUp(_ publication: String, _ connection: PostgresConnection) throws(PostgresError)
        -> PublicationLookup
    {
        // `*` rather than named columns: pubtruncate (11+) is read when present.
        let found = try connection.query("SELECT * FROM pg_publication WHERE pubname = $1", [publication])
        guard !found.rows.isEmpty else {
            let all = try connection.query("SELECT pubname FROM pg_publication ORDER BY pubname")
            return .missing(existing: all.rows.compactMap { $0[0] })
        }
        let operations = ["insert", "update", "delete", "truncate"]
        let tables = try connection.query(
            """
            SELECT pt.schemaname, pt.tablename, c.relreplident,
                   has_table_privilege(c.oid, 'SELECT') AS can_select,
                   has_schema_privilege(n.oid, 'USAGE') AS schema_usage
            FROM pg_publication_tables pt
            JOIN pg_namespace n ON n.nspname = pt.schemaname
            JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
            WHERE pt.pubname = $1
            ORDER BY pt.schemaname, pt.tablename
            """, [publication])
        return .found(
            PublicationFacts(
                allTables: found.value("puballtables") == "t",
                unpublishedOperations: operations.filter { found.value("pub" + $0) == "f" },
                tables: tables.rows.indices.map { row in
                    PublishedTable(
                        schema: tables.value("schemaname", row: row) ?? "",
                        name: tables.value("tablename", row: row) ?? "",
                        replicaIdentity: ReplicaIdentity(rawValue: tables.value("relreplident", row: row) ?? "")
                            ?? .default,
                        canSelect: tables.value("can_select", row: row) == "t",
                        hasSchemaUsage: tables.value("schema_usage", row: row) == "t")
                }))
    }

    private static func slots(_ connection: PostgresConnection) throws(PostgresError) -> Capacity {
        let counts = try connection.query(
            """
            SELECT current_setting('max_replication_slots')::int AS maximum,
                   (SELECT count(*) FROM pg_replication_slots) AS used
            """)
        let inactive = try connection.query(
            "SELECT slot_name FROM pg_replication_slots WHERE NOT active ORDER BY slot_name")
        return Capacity(
            maximum: counts.value("maximum").flatMap { Int($0) } ?? 0,
            used: counts.value("used").flatMap { Int($0) } ?? 0,
            inactive: inactive.rows.compactMap { $0[0] })
    }

    private static func walSenders(_ connection: PostgresConnection) throws(PostgresError) -> Capacity {
        // pg_stat_replication has a row for every WAL sender whoever asks;
        // only its details are hidden from unprivileged roles.
        let counts = try connection.query(
            """
            SELECT current_setting('max_wal_senders')::int AS maximum,
                   (SELECT count(*) FROM pg_stat_replication) AS used
            """)
        return Capacity(
            maximum: counts.value("maximum").flatMap { Int($0) } ?? 0,
            used: counts.value("used").flatMap { Int($0) } ?? 0)
    }

    /// Opens the kind of connection a pipeline streams on. Postgres checks the
    /// REPLICATION attribute when such a session starts, so this is what tells
    /// whether the role's rights really suffice.
    private static func probeReplication(_ settings: ConnectionSettings) -> Result<Void, PostgresError> {
        Result { () throws(PostgresError) in
            let connection = try PostgresConnection(
                settings: bounded(settings), mode: .logicalReplication, applicationName: applicationName)
            _ = try connection.identifySystem()
        }
    }

    private static let applicationName = "popsink-pg check"

    /// A check must answer, not hang behind a stuck server: statements give up
    /// after 30 s (connecting already gives up after `connect_timeout`).
    private static func bounded(_ settings: ConnectionSettings) -> ConnectionSettings {
        var settings = settings
        settings["options"] = [settings["options"], "-c statement_timeout=30000"].compactMap { $0 }.joined(
            separator: " ")
        return settings
    }
}
