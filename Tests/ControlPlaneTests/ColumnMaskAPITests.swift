// Column masking through the API, as a user drives it: a pipeline PUT with
// `redact`, `truncate`, `hash` and `new_columns: exclude`; the load, updates
// and deletes, then a column added while streaming. No original value is in
// any API response (events, schemas, the pipeline) nor in the event store's
// files (database, WAL, shared memory); the added column is held back (the
// schema history marks it `excluded`) until a PUT names it in a rule.

import CDC
import ControlPlane
import Foundation
import PostgresTestSupport
import Testing

@Suite struct ColumnMaskAPITests {
    @Test(.timeLimit(.minutes(4)))
    func maskedAndNewColumnsNeverReachTheAPIOrTheDisk() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        let secret = "s\(UUID().uuidString.prefix(8).lowercased())"
        try postgres.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, email text, ssn text, note text, amount numeric);
            ALTER TABLE t REPLICA IDENTITY FULL;
            INSERT INTO t SELECT g, 'mail-\(secret)-' || g, 'ssn-\(secret)-' || g, 'néte-\(secret)-' || g, 98765.4321
            FROM generate_series(1, 20) g;
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)
        let service = try APIFlowTests.Service()
        let sourceID = try await service.registerSource(postgres, database: database)
        let pipelineID = "mask\(database)"
        var columns: [String: Any] = [
            "hash": ["t.email"], "redact": ["t.ssn"], "truncate": ["t.note": 4, "t.amount": 2],
            "new_columns": "exclude", "hash_key": "a-test-hash-key-\(secret)",
        ]

        let refused = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: [
                "source_id": sourceID,
                "columns": ["truncate": ["t.note": 0, "t.x": "4"], "new_columns": "sometimes"],
            ])
        #expect(refused.status == 422)
        for field in ["columns.truncate.t.note", "columns.truncate.t.x", "columns.new_columns"] {
            #expect(refused.raw.contains(field), "\(field): \(refused.raw)")
        }

        let put = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: ["source_id": sourceID, "desired_state": "running", "columns": columns])
        #expect(put.status == 201, "\(put.raw)")
        let shown = try #require((put.body as? [String: Any])?["columns"] as? [String: Any])
        #expect(shown["redact"] as? [String] == ["t.ssn"])
        #expect(shown["truncate"] as? [String: Int] == ["t.note": 4, "t.amount": 2])
        #expect(shown["new_columns"] as? String == "exclude")

        func events() async throws -> [[String: Any]] {
            let page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&limit=1000")
            let stored = ((page.body as? [String: Any])?["events"] as? [[String: Any]]) ?? []
            return stored.compactMap { $0["event"] as? [String: Any] }
        }
        func hasEvent(_ op: String, id: Int) async -> Bool {
            await eventually {
                (try? await events())?.contains {
                    $0["op"] as? String == op && (($0["after"] ?? $0["before"]) as? [String: Any])?["id"] as? Int == id
                } == true
            }
        }
        #expect(await hasEvent("r", id: 20))
        try postgres.execute(
            """
            UPDATE t SET note = 'üpdated-\(secret)' WHERE id <= 5;
            DELETE FROM t WHERE id = 6;
            ALTER TABLE t ADD COLUMN token text DEFAULT 'default-\(secret)';
            INSERT INTO t VALUES (21, 'mail-\(secret)-21', 'ssn-\(secret)-21', 'n', 1, 'token-\(secret)');
            """, database: database)
        #expect(await hasEvent("c", id: 21))

        let all = try await events()
        let updated = try #require(all.first { $0["op"] as? String == "u" })
        #expect((updated["after"] as? [String: Any])?["note"] as? String == "üpda")
        #expect((updated["before"] as? [String: Any])?["ssn"] as? String == "[redacted]")
        #expect((updated["before"] as? [String: Any])?["amount"] as? String == "98")
        let deleted = try #require(all.first { $0["op"] as? String == "d" })
        #expect((deleted["before"] as? [String: Any])?["note"] as? String == "néte")
        let inserted = try #require(all.first { $0["op"] as? String == "c" })
        #expect((inserted["after"] as? [String: Any])?.keys.contains("token") == false)

        let schemas = try await service.call("GET", "/v1/pipelines/\(pipelineID)/schemas")
        let tables = ((schemas.body as? [String: Any])?["tables"] as? [[String: Any]]) ?? []
        let latest = tables.first { $0["table"] as? String == "t" }
        let token = (latest?["columns"] as? [[String: Any]])?.first { $0["name"] as? String == "token" }
        #expect(token?["excluded"] as? Bool == true, "\(schemas.raw)")

        // Every response and the store's files: no original value.
        let pipeline = try await service.call("GET", "/v1/pipelines/\(pipelineID)")
        let page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&limit=1000")
        for response in [page.raw, schemas.raw, pipeline.raw, put.raw] {
            #expect(!response.contains(secret), "an original value reached the API: \(response.prefix(300))")
        }
        let store = DataDirectory(path: service.directory.path).eventStorePath(pipelineID: pipelineID)
        for suffix in ["", "-wal", "-shm"] {
            let file = (try? Data(contentsOf: URL(fileURLWithPath: store + suffix))) ?? Data()
            #expect(file.range(of: Data(secret.utf8)) == nil, "an original value is in \(store + suffix)")
        }

        // A rule names the new column: it comes through as the rule says.
        columns["redact"] = ["t.ssn", "t.token"]
        let named = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: ["source_id": sourceID, "desired_state": "running", "columns": columns])
        #expect(named.status == 200, "\(named.raw)")
        try postgres.execute(
            "INSERT INTO t VALUES (22, 'm', 's', 'n', 1, 'token-\(secret)')", database: database)
        #expect(await hasEvent("c", id: 22))
        let last = try #require(try await events().last { $0["op"] as? String == "c" })
        #expect((last["after"] as? [String: Any])?["token"] as? String == "[redacted]")
        await service.stop()
    }
}
