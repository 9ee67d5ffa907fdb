// Pipelines run as the minimal role the README gives (LOGIN REPLICATION,
// SELECT on the captured tables, USAGE on their schemas), not a superuser;
// identifiers that are hostile to string-built SQL (a table named
// `x; DROP TABLE y`, a schema with quotes, a publication name with spaces and
// quotes) are captured as they are and smuggle nothing; and a row-level
// security policy that would hide rows from the initial load stops it with an
// error naming the table and the fix, instead of a silently partial load.

import Foundation
import PostgresTestSupport
import Testing

@Suite struct LeastPrivilegeTests {
    static func events(_ service: APIFlowTests.Service, _ pipeline: String, atLeast count: Int) async throws
        -> [[String: Any]]
    {
        var events: [[String: Any]] = []
        for _ in 0..<300 where events.count < count {
            let page = try await service.call("GET", "/v1/pipelines/\(pipeline)/events?after=0&limit=1000")
            events = ((page.body as? [String: Any])?["events"] as? [[String: Any]] ?? []).compactMap {
                $0["event"] as? [String: Any]
            }
            if events.count < count { try await Task.sleep(for: .milliseconds(100)) }
        }
        return events
    }

    static func status(_ service: APIFlowTests.Service, _ pipeline: String, until states: Set<String>) async throws
        -> [String: Any]
    {
        var status: [String: Any] = [:]
        for _ in 0..<600 where !states.contains(status["state"] as? String ?? "") {
            status = (try await service.call("GET", "/v1/pipelines/\(pipeline)/status").body as? [String: Any]) ?? [:]
            try await Task.sleep(for: .milliseconds(100))
        }
        return status
    }

    /// A role with LOGIN REPLICATION and a password, SELECT on `tables`, USAGE on `schema`.
    static func minimalRole(_ postgres: TestPostgres, database: String, schema: String, tables: [String]) throws -> (
        name: String, password: String
    ) {
        let role = "lp_\(database)"
        let password = "pw-\(UInt32.random(in: 0...UInt32.max))"
        try postgres.execute(
            """
            CREATE ROLE \(role) LOGIN REPLICATION PASSWORD '\(password)' IN ROLE \(TestPostgres.passwordGroup);
            GRANT USAGE ON SCHEMA \(schema) TO \(role);
            GRANT SELECT ON \(tables.joined(separator: ", ")) TO \(role);
            """, database: database)
        return (role, password)
    }

    /// Registers `database` as a source that logs in as `role`; returns its id.
    static func registerSource(
        _ service: APIFlowTests.Service, _ postgres: TestPostgres, database: String,
        as role: (name: String, password: String)
    ) async throws -> String {
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "least-privilege", "host": postgres.host, "port": postgres.port, "database": database,
                "user": role.name, "password": role.password, "sslmode": "disable",
            ])
        return try #require((created.body as? [String: Any])?["id"] as? String, "\(created.raw)")
    }

    @Test(.timeLimit(.minutes(3)))
    func aMinimalRoleCapturesTablesWithHostileNames() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase(prefix: "lp")
        let schema = #""we""ird; schema""#
        let hostile = #"\#(schema)."x; DROP TABLE y""#
        let plain = "\(schema).y"
        let publication = #"pub "lic" ation; --"#
        try postgres.execute(
            #"""
            CREATE SCHEMA \#(schema);
            CREATE TABLE \#(hostile) (id int PRIMARY KEY, "v'al" text);
            CREATE TABLE \#(plain) (id int PRIMARY KEY);
            ALTER TABLE \#(hostile) REPLICA IDENTITY FULL;
            ALTER TABLE \#(plain) REPLICA IDENTITY FULL;
            INSERT INTO \#(hostile) VALUES (1, 'before');
            CREATE PUBLICATION "pub ""lic"" ation; --" FOR TABLE \#(hostile), \#(plain);
            """#, database: database)
        let role = try Self.minimalRole(postgres, database: database, schema: schema, tables: [hostile, plain])
        // Not a superuser, no BYPASSRLS, no membership beyond the password group.
        let attributes = try postgres.execute(
            "SELECT rolsuper::text, rolbypassrls::text, rolreplication::text FROM pg_roles WHERE rolname = '\(role.name)'",
            database: database)
        #expect(attributes.rows == [["false", "false", "true"]])

        let service = try APIFlowTests.Service()
        let sourceID = try await Self.registerSource(service, postgres, database: database, as: role)
        let pipelineID = "p\(database)"
        let put = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: ["source_id": sourceID, "publication": publication, "desired_state": "running"])
        #expect(put.status == 201, "\(put.raw)")
        let status = try await Self.status(service, pipelineID, until: ["streaming", "failed"])
        #expect(status["state"] as? String == "streaming", "\(status)")

        try postgres.execute("INSERT INTO \(hostile) VALUES (2, 'after')", database: database)
        let events = try await Self.events(service, pipelineID, atLeast: 4)
        let rows = events.filter { ["r", "c"].contains($0["op"] as? String) }
        let sources = rows.compactMap { $0["source"] as? [String: Any] }
        #expect(
            sources.allSatisfy {
                $0["schema"] as? String == #"we"ird; schema"# && $0["table"] as? String == "x; DROP TABLE y"
            })
        #expect(
            rows.compactMap { ($0["after"] as? [String: Any])?["v'al"] as? String } == ["before", "after"], "\(events)")

        // The replication connection is the minimal role's, and nothing was smuggled into any statement.
        let sender = try postgres.execute(
            "SELECT count(*)::text FROM pg_stat_replication WHERE usename = '\(role.name)'", database: database)
        #expect(sender.rows == [["1"]], "\(sender.rows)")
        #expect(try postgres.execute("SELECT count(*)::text FROM \(plain)", database: database).rows == [["0"]])
        _ = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        await service.stop()
    }

    @Test(.timeLimit(.minutes(3)))
    func aRowSecurityPolicyThatWouldHideRowsStopsTheLoadWithTheFix() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase(prefix: "rls")
        try postgres.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, tenant text);
            ALTER TABLE t REPLICA IDENTITY FULL;
            INSERT INTO t VALUES (1, 'a'), (2, 'b');
            ALTER TABLE t ENABLE ROW LEVEL SECURITY;
            CREATE POLICY only_a ON t USING (tenant = 'a');
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)
        let role = try Self.minimalRole(postgres, database: database, schema: "public", tables: ["t"])
        let service = try APIFlowTests.Service()
        let sourceID = try await Self.registerSource(service, postgres, database: database, as: role)
        let pipelineID = "p\(database)"
        _ = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)", json: ["source_id": sourceID, "desired_state": "running"])
        let status = try await Self.status(service, pipelineID, until: ["failed", "streaming"])
        #expect(status["state"] as? String == "failed", "\(status)")
        let error = "\(status["last_error"] ?? "")"
        #expect(
            error.contains("row-level security") && error.contains("BYPASSRLS") && error.contains(role.name), "\(error)"
        )
        // Not one row of the partial view was stored.
        let events = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0")
        let ops = ((events.body as? [String: Any])?["events"] as? [[String: Any]] ?? []).compactMap {
            ($0["event"] as? [String: Any])?["op"] as? String
        }
        #expect(!ops.contains("r"), "\(ops)")

        // With BYPASSRLS the same role loads both rows.
        try postgres.execute("ALTER ROLE \(role.name) BYPASSRLS", database: database)
        _ = try await service.call("POST", "/v1/pipelines/\(pipelineID)/restart")
        let rows = try await Self.events(service, pipelineID, atLeast: 3).filter { $0["op"] as? String == "r" }
        #expect(rows.count == 2, "\(rows)")
        _ = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        await service.stop()
    }
}
