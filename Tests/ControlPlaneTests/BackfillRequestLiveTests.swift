// Backfill requests through a live service: a request accepted with 202 is
// carried out even when the pipeline stops right after it; a cancel stops a
// running backfill at a marker whose LSN bounds its rows; structured
// conditions read only the matching rows, a hostile value is a harmless
// literal, and SQL text, an unknown column or operator, or a value the
// column's type cannot read is a 422 naming what is wrong; the automatic
// backfill of a table added to the publication has an id like an on-demand one.

import CDC
import Foundation
import PostgresTestSupport
import Testing

@Suite struct BackfillRequestLiveTests {
    typealias Service = APIFlowTests.Service

    /// A running pipeline on table `t` (rows 1...rows) of a new database.
    struct Setup {
        let postgres: TestPostgres
        let database: String
        let service: Service
        let id: String
        let slot: String
        var backfills: String { "/v1/pipelines/\(id)/backfills" }

        init(
            rows: Int, extraSQL: String = "", filters: [String: Any]? = nil,
            snapshot: [String: Any] = ["chunk_pages": 4]
        ) async throws {
            postgres = try await TestPostgres.shared()
            database = try postgres.createDatabase()
            try postgres.execute(
                """
                CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
                ALTER TABLE t REPLICA IDENTITY FULL;
                INSERT INTO t SELECT g, 0 FROM generate_series(1, \(rows)) g;
                CREATE PUBLICATION popsink FOR TABLE t;
                \(extraSQL)
                """, database: database)
            service = try Service()
            id = "r\(database)"
            slot = PipelineConfig.defaultSlot(pipelineID: id)!.rawValue
            let sourceID = try await service.registerSource(postgres, database: database)
            var body: [String: Any] = ["source_id": sourceID, "snapshot": snapshot]
            if let filters { body["filters"] = filters }
            let created = try await service.call("PUT", "/v1/pipelines/\(id)", json: body)
            #expect(created.status == 201, "\(created.raw)")
            #expect(try await service.call("POST", "/v1/pipelines/\(id)/start").status == 200)
            #expect(try await LifecycleTests.waitForState(service, id, "streaming") == "streaming")
        }

        func backfill(_ backfillID: String) async throws -> [String: Any] {
            try await service.call("GET", "\(backfills)/\(backfillID)").body as? [String: Any] ?? [:]
        }

        /// Waits for the backfill to reach `state`; returns it as last read.
        func waitFor(_ backfillID: String, _ state: String) async throws -> [String: Any] {
            var shown: [String: Any] = [:]
            _ = try await eventually {
                shown = try await backfill(backfillID)
                return shown["state"] as? String == state
            }
            return shown
        }

        /// Every stored event up to a row inserted into `t` now (so all before it are there).
        func eventsThroughMarker() async throws -> [[String: Any]] {
            try postgres.execute(
                "INSERT INTO t VALUES (-1, 0) ON CONFLICT (id) DO UPDATE SET v = t.v + 1", database: database)
            return try await events(throughRowOf: "t")
        }

        /// Every stored event up to the first change that writes row -1 of `table`.
        func events(throughRowOf table: String) async throws -> [[String: Any]] {
            var events: [[String: Any]] = []
            var after = 0
            var sawMarker = false
            _ = try await eventually {
                let page = try await service.call("GET", "/v1/pipelines/\(id)/events?after=\(after)&limit=5000")
                for entry in (page.body as? [String: Any])?["events"] as? [[String: Any]] ?? [] {
                    after = max(after, entry["seq"] as? Int ?? after)
                    guard let event = entry["event"] as? [String: Any] else { continue }
                    events.append(event)
                    let op = event["op"] as? String
                    if op == "c" || op == "u", BackfillRequestLiveTests.table(event) == table,
                        (event["after"] as? [String: Any])?["id"] as? Int == -1
                    {
                        sawMarker = true
                    }
                }
                return sawMarker
            }
            #expect(sawMarker, "the row inserted after the backfill arrives: the stream goes on")
            return events
        }

        func finish() async {
            _ = try? await service.call("DELETE", "/v1/pipelines/\(id)?drop_slot=true")
            await service.stop()
            _ = try? postgres.execute(
                "SELECT pg_drop_replication_slot('\(slot)') WHERE EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '\(slot)')"
            )
        }
    }

    static func backfillOf(_ event: [String: Any]) -> String? {
        (event["source"] as? [String: Any])?["backfill"] as? String
    }

    static func table(_ event: [String: Any]) -> String? {
        (event["source"] as? [String: Any])?["table"] as? String
    }

    /// A second table, `(id int PRIMARY KEY, <column>)`, filled with rows
    /// 1...rows from `value` (an expression of `g`), published or not.
    static func tableSQL(
        _ name: String, column: String = "v int NOT NULL", rows: Int, value: String = "g",
        published: Bool = true
    ) -> String {
        """
        CREATE TABLE \(name) (id int PRIMARY KEY, \(column));
        ALTER TABLE \(name) REPLICA IDENTITY FULL;
        INSERT INTO \(name) SELECT g, \(value) FROM generate_series(1, \(rows)) g;
        \(published ? "ALTER PUBLICATION popsink ADD TABLE \(name);" : "")
        """
    }

    static func lsn(_ text: String?) -> UInt64? {
        guard let parts = text?.split(separator: "/"), parts.count == 2,
            let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16)
        else { return nil }
        return high << 32 | low
    }

    @Test(.timeLimit(.minutes(5)))
    func anAcceptedRequestSurvivesAStopRightAfterIt() async throws {
        let setup = try await Setup(rows: 2000)
        let posted = try await setup.service.call("POST", setup.backfills, json: ["tables": ["public.t"]])
        #expect(posted.status == 202, "\(posted.raw)")
        let backfillID = try #require((posted.body as? [String: Any])?["id"] as? String)
        // Stopped before the pipeline's next poll could take the request.
        #expect(try await setup.service.call("POST", "/v1/pipelines/\(setup.id)/stop").status == 200)
        #expect(try await LifecycleTests.waitForState(setup.service, setup.id, "stopped") == "stopped")
        let listed = try await setup.service.call("GET", setup.backfills).body as? [String: Any]
        let ids = (listed?["backfills"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids == [backfillID], "the stopped pipeline's store holds the request: \(String(describing: listed))")

        #expect(try await setup.service.call("POST", "/v1/pipelines/\(setup.id)/start").status == 200)
        let done = try await setup.waitFor(backfillID, "done")
        #expect(done["state"] as? String == "done", "\(done)")
        let reads = try await setup.eventsThroughMarker().filter { Self.backfillOf($0) == backfillID }
        #expect(reads.count == 2000, "every row of t read once more, under the backfill's id")
        #expect(done["rows"] as? Int == reads.count)
        await setup.finish()
    }

    @Test(.timeLimit(.minutes(5)))
    func aCancelStopsARunningBackfillAtItsMarker() async throws {
        let setup = try await Setup(rows: 20000)
        // Throttled so it is still running when the cancel comes.
        let posted = try await setup.service.call(
            "POST", setup.backfills, json: ["tables": ["public.t"], "max_rows_per_second": 400])
        #expect(posted.status == 202, "\(posted.raw)")
        let backfillID = try #require((posted.body as? [String: Any])?["id"] as? String)
        #expect((posted.body as? [String: Any])?["max_rows_per_second"] as? Int == 400)
        #expect(
            try await eventually {
                let shown = try await setup.backfill(backfillID)
                return shown["state"] as? String == "running" && (shown["rows"] as? Int ?? 0) > 0
            })
        let cancel = try await setup.service.call("DELETE", "\(setup.backfills)/\(backfillID)")
        #expect(cancel.status == 202, "\(cancel.raw)")
        #expect((cancel.body as? [String: Any])?["cancel_requested"] as? Bool == true)
        let cancelled = try await setup.waitFor(backfillID, "cancelled")
        #expect(cancelled["state"] as? String == "cancelled", "\(cancelled)")
        let stoppedAt = try #require(Self.lsn(cancelled["stopped_at"] as? String), "\(cancelled)")
        let rows = cancelled["rows"] as? Int ?? -1
        #expect(rows > 0 && rows < 20000, "stopped part way: \(cancelled)")

        #expect(try await setup.service.call("DELETE", "\(setup.backfills)/\(backfillID)").status == 409)
        #expect(try await setup.service.call("DELETE", "\(setup.backfills)/bf_nope").status == 404)
        #expect(try await setup.service.call("DELETE", "/v1/pipelines/nope/backfills/\(backfillID)").status == 404)

        let reads = try await setup.eventsThroughMarker().filter { Self.backfillOf($0) == backfillID }
        #expect(reads.count == rows, "as many r events as the cancelled backfill reports")
        let late = reads.filter {
            (Self.lsn(($0["source"] as? [String: Any])?["commit_lsn"] as? String) ?? .max) >= stoppedAt
        }
        #expect(late.isEmpty, "no row of the backfill is stored at or after its stop marker")
        // Nothing read after the cancel: the count stays.
        try await Task.sleep(for: .seconds(2))
        #expect(try await setup.backfill(backfillID)["rows"] as? Int == rows)

        // A cancel right after the request, whether the pipeline took the request yet or not.
        let quick = try await setup.service.call(
            "POST", setup.backfills, json: ["tables": ["public.t"], "max_rows_per_second": 400])
        let quickID = try #require((quick.body as? [String: Any])?["id"] as? String)
        #expect(try await setup.service.call("DELETE", "\(setup.backfills)/\(quickID)").status == 202)
        let quickEnd = try await setup.waitFor(quickID, "cancelled")
        #expect(quickEnd["state"] as? String == "cancelled", "\(quickEnd)")
        #expect((quickEnd["rows"] as? Int ?? .max) < 20000)
        await setup.finish()
    }

    static let hostile = #"it's \ "quoted" ✓"#

    @Test(.timeLimit(.minutes(5)))
    func structuredConditionsReadOnlyMatchingRowsAndWrongOnesAre422() async throws {
        let setup = try await Setup(
            rows: 3000,
            extraSQL: Self.tableSQL(
                "u", column: "tag text NOT NULL", rows: 500, value: "CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END")
                + "INSERT INTO u VALUES (1000, $h$\(Self.hostile)$h$);"
                + "CREATE TABLE k (id int, v int); INSERT INTO k VALUES (1, 1), (1, 1);")
        let evenUpTo100: [[String: Any]] = [
            ["column": "tag", "op": "=", "value": "even"], ["column": "id", "op": "<=", "value": 100],
        ]
        let posted = try await setup.service.call(
            "POST", setup.backfills,
            json: [
                "tables": ["public.t", ["name": "public.u", "where": evenUpTo100]],
                "where": [["column": "id", "op": ">", "value": "100"], ["column": "id", "op": "<=", "value": 300]],
            ] as [String: Any])
        #expect(posted.status == 202, "\(posted.raw)")
        let body = posted.body as? [String: Any]
        let backfillID = try #require(body?["id"] as? String)
        let shown = body?["where"] as? [String: [[String: Any]]]
        #expect(shown?["public.u"]?.map { $0["column"] as? String } == ["tag", "id"], "\(posted.raw)")
        #expect(
            shown?["public.u"]?.last?["value"] as? Int == 100 && shown?["public.t"]?.first?["value"] as? String == "100"
        )
        #expect(
            (body?["where_sql"] as? [String: String])?["public.u"]
                == #"("tag" = 'even'::text) AND ("id" <= '100'::integer)"#, "\(posted.raw)")
        let done = try await setup.waitFor(backfillID, "done")
        #expect(done["state"] as? String == "done", "\(done)")
        var reads = try await setup.eventsThroughMarker().filter { Self.backfillOf($0) == backfillID }
        func keys(_ table: String) -> [Int] {
            reads.filter { Self.table($0) == table }.compactMap { ($0["after"] as? [String: Any])?["id"] as? Int }
        }
        #expect(keys("t").sorted() == Array(101...300))
        #expect(keys("u").sorted() == Array(stride(from: 2, through: 100, by: 2)))

        // Hostile values are literals: one matches its row, the other nothing, and every table is intact.
        let hostile = try await setup.service.call(
            "POST", setup.backfills,
            json: [
                "tables": ["public.u"],
                "where": [["column": "tag", "op": "in", "value": [Self.hostile, "'); DROP TABLE t; --"]]],
            ]
                as [String: Any])
        #expect(hostile.status == 202, "\(hostile.raw)")
        let hostileID = try #require((hostile.body as? [String: Any])?["id"] as? String)
        #expect(try await setup.waitFor(hostileID, "done")["rows"] as? Int == 1)
        reads = try await setup.eventsThroughMarker().filter { Self.backfillOf($0) == hostileID }
        #expect(keys("u") == [1000] && (reads.first?["after"] as? [String: Any])?["tag"] as? String == Self.hostile)
        let counts = try setup.postgres.execute(
            "SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM u)", database: setup.database)
        #expect(counts.rows.first == ["3001", "501"], "t (with the marker row) and u are intact")

        func refusal(_ body: [String: Any]) async throws -> (status: Int, problem: [String: Any], raw: String) {
            let answer = try await setup.service.call("POST", setup.backfills, json: body)
            return (answer.status, answer.body as? [String: Any] ?? [:], answer.raw)
        }
        func fields(_ problem: [String: Any]) -> [String] {
            (problem["errors"] as? [[String: Any]] ?? []).map { "\($0["field"] ?? ""): \($0["message"] ?? "")" }
        }
        // SQL text: refused, with the form to use.
        let text = try await refusal(["tables": ["public.t"], "where": "id > 1"])
        #expect(text.status == 422 && fields(text.problem).first?.hasPrefix("where: SQL text is not accepted") == true)
        #expect(text.raw.contains(#"{\"column\": \"region\", \"op\": \"=\", \"value\": \"eu\"}"#), "\(text.raw)")
        // An operator outside the list, named by its field.
        let op = try await refusal(
            ["tables": [["name": "public.t", "where": [["column": "id", "op": "; DROP TABLE t", "value": 1]]]]])
        #expect(
            op.status == 422 && fields(op.problem).first?.hasPrefix("tables[0].where[0].op: must be one of =") == true)
        // A column the table lacks: the column, the table and its columns.
        let column = try await refusal(["tables": ["public.t"], "where": [["column": "nope", "op": "=", "value": 1]]])
        #expect(column.status == 422, "\(column.raw)")
        #expect(column.problem["type"] as? String == "urn:popsink:problem:invalid-condition")
        #expect(column.problem["table"] as? String == "public.t" && column.problem["column"] as? String == "nope")
        #expect(
            (column.problem["detail"] as? String)?.contains(#"public.t has no column "nope"; its columns are id, v"#)
                == true)
        // A value the column's type cannot read, and an operator the type lacks: Postgres's SQLSTATE.
        let value = try await refusal(["tables": ["public.t"], "where": [["column": "id", "op": "=", "value": "abc"]]])
        #expect(value.status == 422 && value.problem["sqlstate"] as? String == "22P02", "\(value.raw)")
        let like = try await refusal([
            "tables": ["public.t"], "where": [["column": "id", "op": "like", "value": "1%"]],
        ])
        #expect(like.status == 422 && like.problem["sqlstate"] as? String == "42883", "\(like.raw)")
        // A table without a key is reloaded whole, replacing a consumer's copy: no condition.
        let keyless = try await refusal(["tables": ["public.k"], "where": [["column": "id", "op": "=", "value": 1]]])
        #expect(
            keyless.status == 422 && (keyless.problem["detail"] as? String)?.contains("neither a primary key") == true,
            "\(keyless.raw)")
        await setup.finish()
    }

    @Test(.timeLimit(.minutes(5)))
    func theBackfillOfATableAddedToThePublicationHasAnID() async throws {
        let setup = try await Setup(
            rows: 10,
            extraSQL: Self.tableSQL("w", rows: 700, published: false),
            snapshot: ["chunk_pages": 4, "backfill_max_rows_per_second": 100_000])
        try setup.postgres.execute("ALTER PUBLICATION popsink ADD TABLE w", database: setup.database)
        var automatic: [String: Any] = [:]
        #expect(
            try await eventually {
                let list = try await setup.service.call("GET", setup.backfills).body as? [String: Any]
                automatic =
                    (list?["backfills"] as? [[String: Any]])?.first { $0["trigger"] as? String == "capture_started" }
                    ?? [:]
                return automatic["state"] as? String == "done"
            }, "\(automatic)")
        #expect(automatic["tables"] as? [String] == ["public.w"])
        #expect(automatic["max_rows_per_second"] as? Int == 100_000, "the pipeline's default cap")
        let backfillID = try #require(automatic["id"] as? String)
        let reads = try await setup.eventsThroughMarker().filter { $0["op"] as? String == "r" && Self.table($0) == "w" }
        #expect(reads.count == 700 && reads.allSatisfy { Self.backfillOf($0) == backfillID })
        #expect(automatic["rows"] as? Int == 700)
        await setup.finish()
    }

    @Test(.timeLimit(.minutes(5)))
    func theFiltersAnswerGivesTheCutOffAndTheNewTablesBackfill() async throws {
        let setup = try await Setup(
            rows: 50,
            extraSQL: Self.tableSQL("u", rows: 300), filters: ["include_tables": ["public.t"]])
        let put = try await setup.service.call(
            "PUT", "/v1/pipelines/\(setup.id)/filters", json: ["include_tables": ["public.u", "public.t"]])
        #expect(put.status == 200, "\(put.raw)")
        let change = try #require((put.body as? [String: Any])?["capture_change"] as? [String: Any], "\(put.raw)")
        #expect(change["started"] as? [String] == ["public.u"] && change["stopped"] as? [String] == [])
        let backfillID = try #require(change["backfill_id"] as? String)
        #expect(Self.lsn(change["lsn"] as? String) != nil)
        #expect(try await setup.waitFor(backfillID, "done")["rows"] as? Int == 300)

        // Now t stops matching: its changes end at the answer's LSN.
        try setup.postgres.execute("INSERT INTO t VALUES (1000, 0)", database: setup.database)
        let narrowed = try await setup.service.call(
            "PUT", "/v1/pipelines/\(setup.id)/filters", json: ["include_tables": ["public.u"]])
        let stop = try #require(
            (narrowed.body as? [String: Any])?["capture_change"] as? [String: Any], "\(narrowed.raw)")
        #expect(stop["stopped"] as? [String] == ["public.t"] && stop["started"] as? [String] == [])
        let cutOff = try #require(Self.lsn(stop["lsn"] as? String))
        try setup.postgres.execute(
            "INSERT INTO t VALUES (1001, 0); INSERT INTO u VALUES (-1, 0)", database: setup.database)
        // The same filters again change nothing.
        let same = try await setup.service.call(
            "PUT", "/v1/pipelines/\(setup.id)/filters", json: ["include_tables": ["public.u"]])
        #expect(same.status == 200 && (same.body as? [String: Any])?["capture_change"] is NSNull, "\(same.raw)")

        let events = try await setup.events(throughRowOf: "u")
        let table = Self.table
        func commitLSN(_ event: [String: Any]) -> UInt64 {
            Self.lsn((event["source"] as? [String: Any])?["commit_lsn"] as? String) ?? 0
        }
        let tRows = events.filter { table($0) == "t" && $0["op"] as? String == "c" }
        #expect(tRows.contains { ($0["after"] as? [String: Any])?["id"] as? Int == 1000 })
        #expect(!tRows.contains { ($0["after"] as? [String: Any])?["id"] as? Int == 1001 })
        #expect(tRows.allSatisfy { commitLSN($0) < cutOff })
        let stopped = events.first { table($0) == "t" && $0["op"] as? String == "s" && commitLSN($0) == cutOff }
        #expect(stopped != nil, "the capture: stopped event is at the cut-off")
        await setup.finish()
    }
}
