// /v1/pipelines/{id}/schemas and /schemas/{schema}.{table} through a live
// service and a real Postgres: the newest version of each captured table,
// one table's history with the change of each version, and problem+json
// for what has no answer. Then /v1/sources/{id}/ddl-capture: installed by a
// superuser, refused with the SQL to run for any other role, and removed.

import Foundation
import PostgresTestSupport
import Testing

@Suite struct SchemaAPITests {
    typealias Service = APIFlowTests.Service

    /// Waits until the pipeline has stored `count` events.
    static func waitForEvents(_ service: Service, _ pipelineID: String, count: Int) async throws {
        var last = 0
        var page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&limit=1")
        for _ in 0..<600 where last < count {
            page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&limit=1")
            last = (page.body as? [String: Any])?["last_seq"] as? Int ?? 0
            if last < count { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(last >= count, "waited for \(count) events: \(page.raw)")
    }

    @Test(.timeLimit(.minutes(3)))
    func schemasListTheNewestVersionsAndATablesHistory() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        try postgres.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, v text);
            ALTER TABLE t REPLICA IDENTITY FULL;
            CREATE TABLE "Odd.Name" (id int PRIMARY KEY);
            ALTER TABLE "Odd.Name" REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE t, "Odd.Name";
            """, database: database)
        let service = try Service()
        let pipelineID = "schemas\(database)"
        let sourceID = try await service.registerSource(postgres, database: database)

        // A pipeline that has not stored anything has no tables yet.
        let idle = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)", json: ["source_id": sourceID, "desired_state": "stopped"])
        #expect(idle.status == 201, "\(idle.raw)")
        let empty = try await service.call("GET", "/v1/pipelines/\(pipelineID)/schemas")
        #expect(empty.status == 200, "\(empty.raw)")
        #expect((empty.body as? [String: Any])?["tables"] as? [Any] != nil, "\(empty.raw)")
        #expect(((empty.body as? [String: Any])?["tables"] as? [Any])?.isEmpty == true, "\(empty.raw)")

        #expect(try await service.call("POST", "/v1/pipelines/\(pipelineID)/start").status < 300)
        // The snapshot's two `s` events (empty tables), then a change, a DDL and a change.
        try await Self.waitForEvents(service, pipelineID, count: 2)
        try postgres.execute("INSERT INTO t VALUES (1, 'a')", database: database)
        try postgres.execute(
            "ALTER TABLE t ADD COLUMN price numeric(12,2) DEFAULT 0; INSERT INTO t VALUES (2, 'b', 1.5)",
            database: database)
        try await Self.waitForEvents(service, pipelineID, count: 5)

        let latest = try await service.call("GET", "/v1/pipelines/\(pipelineID)/schemas")
        #expect(latest.status == 200, "\(latest.raw)")
        let tables = try #require((latest.body as? [String: Any])?["tables"] as? [[String: Any]], "\(latest.raw)")
        #expect(tables.map { "\($0["schema"]!).\($0["table"]!)" } == ["public.Odd.Name", "public.t"])
        let t = try #require(tables.last)
        #expect(t["version"] as? Int == 2)
        #expect((t["columns"] as? [[String: Any]])?.map { $0["name"] as? String } == ["id", "v", "price"])
        #expect((t["columns"] as? [[String: Any]])?.last?["type"] as? String == "numeric(12,2)")
        #expect(((t["change"] as? [String: Any])?["added"] as? [[String: Any]])?.first?["name"] as? String == "price")
        #expect(t["lsn"] as? String != nil && t["commit_lsn"] as? String != nil && t["relation_oid"] as? Int != nil)

        let history = try await service.call("GET", "/v1/pipelines/\(pipelineID)/schemas/public.t")
        #expect(history.status == 200, "\(history.raw)")
        let body = try #require(history.body as? [String: Any])
        #expect(body["schema"] as? String == "public" && body["table"] as? String == "t")
        let versions = try #require(body["versions"] as? [[String: Any]])
        #expect(versions.map { $0["version"] as? Int } == [1, 2])
        #expect(versions.first?["change"] is NSNull)
        #expect((versions.last?["change"] as? [String: Any])?["previous_version"] as? Int == 1)
        // The path splits at the first dot: a table name may hold dots.
        let odd = try await service.call("GET", "/v1/pipelines/\(pipelineID)/schemas/public.Odd.Name")
        #expect(((odd.body as? [String: Any])?["versions"] as? [Any])?.count == 1, "\(odd.raw)")

        let unknown = try await service.call("GET", "/v1/pipelines/\(pipelineID)/schemas/public.nope")
        #expect(unknown.status == 404)
        #expect((unknown.headers["Content-Type"] as? String)?.hasPrefix("application/problem+json") == true)
        #expect(((unknown.body as? [String: Any])?["detail"] as? String)?.contains("public.nope") == true)
        let malformed = try await service.call("GET", "/v1/pipelines/\(pipelineID)/schemas/nodot")
        #expect(malformed.status == 422, "\(malformed.raw)")
        #expect(try await service.call("GET", "/v1/pipelines/nope/schemas").status == 404)
        #expect(try await service.call("GET", "/v1/pipelines/nope/schemas/public.t").status == 404)
        #expect(try await service.call("POST", "/v1/pipelines/\(pipelineID)/schemas").status == 405)

        _ = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func ddlCaptureIsInstalledBySuperusersAndRefusedWithTheSQLOtherwise() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        let role = "ddl_\(database)"
        try postgres.execute("CREATE ROLE \(role) LOGIN REPLICATION")
        let service = try Service()
        let sourceID = try await service.registerSource(postgres, database: database)
        let path = "/v1/sources/\(sourceID)/ddl-capture"

        let before = try await service.call("GET", path)
        #expect(before.status == 200, "\(before.raw)")
        #expect((before.body as? [String: Any])?["installed"] as? Bool == false)
        let installed = try await service.call("POST", path)
        #expect(installed.status == 200, "\(installed.raw)")
        #expect((installed.body as? [String: Any])?["installed"] as? Bool == true)
        #expect((installed.body as? [String: Any])?["prefix"] as? String == "popsink.ddl")
        // Installing again replaces what is there.
        #expect(try await service.call("POST", path).status == 200)
        let triggers = try postgres.execute(
            "SELECT evtname, evtevent FROM pg_event_trigger ORDER BY evtname", database: database)
        #expect(
            triggers.rows == [["popsink_ddl_command_end", "ddl_command_end"], ["popsink_ddl_sql_drop", "sql_drop"]])
        #expect(((try await service.call("GET", path)).body as? [String: Any])?["installed"] as? Bool == true)

        // The trigger writes a message of DDL in the transaction of the DDL.
        try postgres.execute("CREATE TABLE probe (id int PRIMARY KEY)", database: database)

        // A role that is no superuser may not create event triggers: 403 with the SQL.
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "plain", "host": postgres.host, "port": postgres.port, "database": database, "user": role,
                "sslmode": "disable",
            ])
        let plainID = try #require((created.body as? [String: Any])?["id"] as? String, "\(created.raw)")
        let refused = try await service.call("POST", "/v1/sources/\(plainID)/ddl-capture")
        #expect(refused.status == 403, "\(refused.raw)")
        #expect((refused.headers["Content-Type"] as? String)?.hasPrefix("application/problem+json") == true)
        let sql = (refused.body as? [String: Any])?["sql"] as? String ?? ""
        #expect(sql.contains("CREATE EVENT TRIGGER popsink_ddl_command_end"), "\(refused.raw)")
        #expect((refused.body as? [String: Any])?["sqlstate"] as? String == "42501")
        #expect(try await service.call("DELETE", "/v1/sources/\(plainID)/ddl-capture").status == 403)

        let removed = try await service.call("DELETE", path)
        #expect(removed.status == 200, "\(removed.raw)")
        #expect((removed.body as? [String: Any])?["installed"] as? Bool == false)
        #expect(try postgres.execute("SELECT count(*) FROM pg_event_trigger", database: database).rows == [["0"]])
        #expect(try await service.call("GET", "/v1/sources/nope/ddl-capture").status == 404)
        #expect(try await service.call("PUT", path).status == 405)
        await service.stop()
    }
}
