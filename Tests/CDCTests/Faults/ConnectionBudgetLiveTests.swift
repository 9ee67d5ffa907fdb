// Several pipelines of `serve` on one database whose role has a low
// `CONNECTION LIMIT`: they share the source's connection budget instead of
// failing each other. The loads take the workers the budget has left, a
// pipeline that cannot get its own connections waits with an error naming
// the limit, and starts by itself once another pipeline stops. A budget set
// above what the role allows loses load workers to Postgres's refusal, not
// the load.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct ConnectionBudgetLiveTests {
        static let rows = 30_000
        static let setup = """
            CREATE TABLE wide (id int PRIMARY KEY, pad text NOT NULL);
            ALTER TABLE wide REPLICA IDENTITY FULL;
            INSERT INTO wide SELECT g, repeat('w', 300) FROM generate_series(1, \(rows)) g;
            CREATE PUBLICATION popsink FOR TABLE wide;
            """

        @Test(.timeLimit(.minutes(8)))
        func pipelinesShareTheBudgetOfARoleWithAConnectionLimit() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let role = "budget_\(harness.database)"
            try harness.execute(
                "CREATE ROLE \(role) LOGIN REPLICATION CONNECTION LIMIT 8; GRANT SELECT ON wide TO \(role)")
            let pipelines = (1...3).map { "b\($0)\(harness.database)" }
            let serve = try await ServeUnderTest.start(dataDirectory: harness.dataDirectory.path + "/serve")
            defer {
                serve.stop()
                for id in pipelines {
                    _ = try? harness.execute(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'popsink_\(id)'"
                    )
                }
                _ = try? harness.execute("DROP OWNED BY \(role); DROP ROLE \(role)")
            }
            let source = try serve.createSource(
                harness.postgres, database: harness.database, user: role, extra: #","max_connections":8"#)
            #expect(intValue(try serve.api.json("GET", "/v1/sources/\(source)")["max_connections"]) == 8)

            // Three pipelines of 3 connections each, with 4 load workers asked for each: 21 wanted, 8 allowed.
            for id in pipelines {
                _ = try serve.api.json(
                    "PUT", "/v1/pipelines/\(id)",
                    #"{"source_id":"\#(source)","publication":"popsink","snapshot":{"workers":4,"chunk_pages":16}}"#)
                _ = try serve.api.json("POST", "/v1/pipelines/\(id)/start", "")
            }
            var states: [String: [String: Any]] = [:]
            func refresh() throws {
                for id in pipelines { states[id] = try serve.status(id) }
            }
            func describe() -> String {
                pipelines.map { id in
                    let status = states[id] ?? [:]
                    let error = (status["last_error"] as? [String: Any])?["message"] as? String ?? "-"
                    return "\(id): \(status["state"] ?? "?") (\(error))"
                }.joined(separator: "; ")
            }
            var connectionsSeen = 0
            try await waitUntil("two pipelines stream and the third waits for the budget", situation: describe) {
                try refresh()
                connectionsSeen = max(connectionsSeen, try connections(harness, role: role))
                let streaming = pipelines.filter { states[$0]?["state"] as? String == "streaming" }
                let waiting = pipelines.filter {
                    (states[$0]?["last_error"] as? [String: Any])?["code"] as? String == "connection_limit"
                        && states[$0]?["state"] as? String == "retrying"
                }
                return streaming.count == 2 && waiting.count == 1
            }
            for id in pipelines {
                #expect(states[id]?["state"] as? String != "failed", "\(id) failed: \(describe())")
            }
            let waiting = try #require(
                pipelines.first { states[$0]?["state"] as? String == "retrying" }, "\(describe())")
            let error = try #require(states[waiting]?["last_error"] as? [String: Any])
            let message = error["message"] as? String ?? ""
            print("connection budget: the waiting pipeline says: \(message) What to do: \(error["remediation"] ?? "")")
            #expect(message.contains("max_connections 8"), "\(message)")
            #expect(message.contains("127.0.0.1:\(harness.postgres.port)/\(harness.database)"), "\(message)")
            #expect(error["retryable"] as? Bool == true)
            #expect(connectionsSeen <= 8, "the role had \(connectionsSeen) connections, over its limit of 8")

            // One stops: the waiting one gets its connections and loads everything.
            let streamingOnes = pipelines.filter { $0 != waiting }
            _ = try serve.api.json("POST", "/v1/pipelines/\(streamingOnes[0])/stop", "")
            try await waitUntil("the waiting pipeline streams once another stopped", situation: describe) {
                try refresh()
                return states[waiting]?["state"] as? String == "streaming"
            }
            for id in [waiting, streamingOnes[1]] {
                let stored = intValue(states[id]?["events_stored"]) ?? 0
                #expect(stored >= Self.rows, "\(id) stored \(stored) events, the table has \(Self.rows) rows")
            }
        }

        /// A budget above the role's limit: Postgres refuses some load
        /// workers, and the load goes on with the ones it let in.
        @Test(.timeLimit(.minutes(6)))
        func workersPostgresRefusesAreLeftOutNotTheLoad() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let role = "refuse_\(harness.database)"
            try harness.execute(
                "CREATE ROLE \(role) LOGIN REPLICATION CONNECTION LIMIT 5; GRANT SELECT ON wide TO \(role)")
            let pipeline = "r\(harness.database)"
            let serve = try await ServeUnderTest.start(dataDirectory: harness.dataDirectory.path + "/serve")
            defer {
                serve.stop()
                _ = try? harness.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'popsink_\(pipeline)'"
                )
                _ = try? harness.execute("DROP OWNED BY \(role); DROP ROLE \(role)")
            }
            // The default budget (10) lets 4 workers start; the role lets in 5 connections in all.
            let source = try serve.createSource(harness.postgres, database: harness.database, user: role)
            _ = try serve.api.json(
                "PUT", "/v1/pipelines/\(pipeline)",
                #"{"source_id":"\#(source)","publication":"popsink","snapshot":{"workers":4,"chunk_pages":16}}"#)
            _ = try serve.api.json("POST", "/v1/pipelines/\(pipeline)/start", "")
            var status: [String: Any] = [:]
            try await waitUntil("the load finishes with the workers Postgres let in", situation: { "\(status)" }) {
                status = try serve.status(pipeline)
                if status["state"] as? String == "failed" { throw TestPostgresError("the pipeline failed: \(status)") }
                return status["state"] as? String == "streaming"
            }
            // 3 of the pipeline's own and 4 workers would be 7: the load read with what the role let in.
            #expect((intValue(status["events_stored"]) ?? 0) >= Self.rows, "\(status)")
        }

        func connections(_ harness: CaptureHarness, role: String) throws -> Int {
            Int(
                try harness.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = '\(role)'").rows.first?[0]
                    ?? "0") ?? 0
        }
    }
}
