// GET /v1/sources/{id}/tables against a real Postgres: primary keys in key
// order, every replica identity, publication membership, estimated rows,
// and the documented errors.

import Foundation
import PostgresTestSupport
import Testing

@Suite struct SourceTablesTests {
    @Test(.timeLimit(.minutes(5)))
    func listsKeysIdentityMembershipAndEstimates() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        try postgres.execute(
            """
            CREATE TABLE a (id int PRIMARY KEY);
            CREATE TABLE b (x int, y text, PRIMARY KEY (y, x));
            ALTER TABLE b REPLICA IDENTITY FULL;
            CREATE TABLE c (v text);
            ALTER TABLE c REPLICA IDENTITY NOTHING;
            CREATE TABLE d (id int NOT NULL, CONSTRAINT d_id UNIQUE (id));
            ALTER TABLE d REPLICA IDENTITY USING INDEX d_id;
            CREATE SCHEMA other;
            CREATE TABLE other.e (id int PRIMARY KEY);
            CREATE VIEW v AS SELECT * FROM a;
            INSERT INTO a SELECT generate_series(1, 100);
            ANALYZE a;
            CREATE PUBLICATION popsink FOR TABLE a, other.e;
            CREATE PUBLICATION second FOR TABLE c;
            """, database: database)
        let service = try APIFlowTests.Service()
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "tables",
                "host": postgres.host, "port": postgres.port, "database": database,
                "user": postgres.superuser, "sslmode": "disable",
            ])
        let sourceID = try #require((created.body as? [String: Any])?["id"] as? String)

        let listed = try await service.call("GET", "/v1/sources/\(sourceID)/tables")
        #expect(listed.status == 200, "\(listed.raw)")
        let tables = try #require(listed.body as? [[String: Any]])
        #expect(
            tables.map { "\($0["schema"] ?? "").\($0["table"] ?? "")" } == [
                "other.e", "public.a", "public.b", "public.c", "public.d",
            ])
        let byName = Dictionary(uniqueKeysWithValues: tables.map { ("\($0["schema"] ?? "").\($0["table"] ?? "")", $0) })
        #expect(byName["public.a"]?["primary_key"] as? [String] == ["id"])
        #expect(byName["public.a"]?["replica_identity"] as? String == "default")
        #expect(byName["public.a"]?["in_publication"] as? Bool == true)
        #expect(byName["public.a"]?["estimated_rows"] as? Int == 100)
        #expect(byName["public.b"]?["primary_key"] as? [String] == ["y", "x"])
        #expect(byName["public.b"]?["replica_identity"] as? String == "full")
        #expect(byName["public.b"]?["in_publication"] as? Bool == false)
        #expect(byName["public.c"]?["primary_key"] as? [String] == [])
        #expect(byName["public.c"]?["replica_identity"] as? String == "nothing")
        #expect(byName["public.c"]?["estimated_rows"] as? Int == 0)
        #expect(byName["public.d"]?["replica_identity"] as? String == "index")
        #expect(byName["other.e"]?["in_publication"] as? Bool == true)

        let second = try await service.call("GET", "/v1/sources/\(sourceID)/tables?publication=second")
        let members = (second.body as? [[String: Any]] ?? []).filter { $0["in_publication"] as? Bool == true }
        #expect(members.map { $0["table"] as? String } == ["c"])

        #expect(try await service.call("GET", "/v1/sources/nope/tables").status == 404)
        #expect(try await service.call("POST", "/v1/sources/\(sourceID)/tables").status == 405)
        let tooLong = try await service.call(
            "GET", "/v1/sources/\(sourceID)/tables?publication=\(String(repeating: "p", count: 64))")
        #expect(tooLong.status == 422)
        await service.stop()
    }

    @Test func unreachableSourceIs503() async throws {
        let service = try APIFlowTests.Service()
        // Port 1 on loopback refuses the connection at once.
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "tables",
                "host": "127.0.0.1", "port": 1, "database": "d", "user": "u", "password": "hidden-pw",
                "sslmode": "disable",
            ])
        let sourceID = try #require((created.body as? [String: Any])?["id"] as? String)
        let answer = try await service.call("GET", "/v1/sources/\(sourceID)/tables")
        #expect(answer.status == 503)
        #expect((answer.headers["Content-Type"] as? String) == "application/problem+json")
        let problem = try #require(answer.body as? [String: Any])
        #expect(problem["type"] as? String == "urn:popsink:problem:source-unavailable")
        #expect(problem["sqlstate"] is NSNull)
        #expect(problem["instance"] as? String == "/v1/sources/\(sourceID)/tables")
        #expect(!answer.raw.contains("hidden-pw"))
        await service.stop()
    }
}
