// The status fields that come from the pipeline's progress (events by op,
// the slot's health, the snapshot) as the API and /metrics show them,
// for pipelines streaming from a real Postgres.

import CDC
import ControlPlane
import Foundation
import PostgresTestSupport
import Testing

@Suite struct StatusFieldsTests {
    typealias Service = APIFlowTests.Service

    @Test(.timeLimit(.minutes(5)))
    func eventsByOperationSlotAndSnapshotInStatusAndMetrics() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT()
        let service = try Service()
        let pipelineID = "p\(database)"
        try await service.runningPipeline(
            pipelineID, on: postgres, database: database, settings: ["snapshot": ["enabled": false]])

        func status() async throws -> [String: Any] {
            try #require(try await service.call("GET", "/v1/pipelines/\(pipelineID)/status").body as? [String: Any])
        }
        var current = try await service.status(pipelineID, once: "streaming")
        #expect(current["state"] as? String == "streaming")

        try postgres.execute(
            """
            INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
            UPDATE t SET v = 'bb' WHERE id = 2;
            DELETE FROM t WHERE id = 3;
            TRUNCATE t;
            """, database: database)
        // The slot is read about once a second while streaming: wait until a
        // reading taken after the writes shows them retained.
        func slot(_ status: [String: Any]) -> [String: Any]? { status["slot"] as? [String: Any] }
        _ = try await eventually {
            current = try await status()
            let stored = current["events_stored"] as? Int ?? 0
            return stored >= 7 && slot(current)?["retained_wal_bytes"] as? Int ?? 0 > 0
        }
        // The first change announces the table's schema (`s`), then the six changes.
        #expect(current["events_stored"] as? Int == 7, "\(current)")
        let byOp = try #require(current["events_by_op"] as? [String: Int], "\(current)")
        #expect(byOp == ["c": 3, "u": 1, "d": 1, "t": 1, "r": 0, "s": 1, "m": 0])
        let slotHealth = try #require(slot(current), "\(current)")
        #expect(slotHealth["wal_status"] as? String == "reserved")
        let retained = try #require(slotHealth["retained_wal_bytes"] as? Int)
        #expect(retained > 0)
        // The test cluster leaves max_slot_wal_keep_size unlimited.
        #expect(slotHealth["safe_wal_bytes"] is NSNull)
        let snapshot = try #require(current["snapshot"] as? [String: Any], "\(current)")
        #expect(snapshot["tables_total"] as? Int == 0)
        #expect((snapshot["tables"] as? [Any])?.isEmpty == true)

        let metrics = try await service.call("GET", "/metrics").raw
        let pipeline = #"pipeline="\#(pipelineID)""#
        for (op, count) in byOp {
            #expect(
                sample(metrics, #"popsink_pipeline_events_total{\#(pipeline),op="\#(op)"}"#) == Double(count), "\(op)")
        }
        #expect(sample(metrics, #"popsink_pipeline_slot_wal_status{\#(pipeline),wal_status="reserved"}"#) == 1)
        #expect(sample(metrics, #"popsink_pipeline_slot_wal_status{\#(pipeline),wal_status="lost"}"#) == 0)
        #expect((sample(metrics, "popsink_pipeline_slot_wal_retained_bytes{\(pipeline)}") ?? 0) > 0)
        #expect(sample(metrics, "popsink_pipeline_snapshot_tables_remaining{\(pipeline)}") == 0)
        #expect(metrics.contains("# TYPE popsink_pipeline_events_total counter"))
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func snapshotProgressPerTableInStatusAndMetrics() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        try postgres.execute(
            """
            CREATE TABLE a (id int PRIMARY KEY);
            CREATE TABLE b (id int PRIMARY KEY, v text);
            ALTER TABLE a REPLICA IDENTITY FULL;
            ALTER TABLE b REPLICA IDENTITY FULL;
            INSERT INTO a SELECT generate_series(1, 30);
            INSERT INTO b VALUES (1, 'x'), (2, 'y');
            ANALYZE a;
            CREATE PUBLICATION popsink FOR TABLE a, b;
            """, database: database)
        let service = try Service()
        let pipelineID = "p\(database)"
        try await service.runningPipeline(pipelineID, on: postgres, database: database)

        let current = try await service.status(pipelineID, once: "streaming")
        #expect(current["state"] as? String == "streaming", "\(current)")
        #expect((current["events_by_op"] as? [String: Int])?["r"] == 32, "\(current)")
        let snapshot = try #require(current["snapshot"] as? [String: Any], "\(current)")
        #expect(snapshot["tables_total"] as? Int == 2)
        #expect(snapshot["tables_done"] as? Int == 2)
        #expect(snapshot["rows_done"] as? Int == 32)
        let tables = try #require(snapshot["tables"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: tables.map { ("\($0["schema"]!).\($0["table"]!)", $0) })
        #expect(Set(byName.keys) == ["public.a", "public.b"])
        let a = try #require(byName["public.a"])
        #expect(a["state"] as? String == "done")
        #expect(a["rows_done"] as? Int == 30)
        #expect(a["rows_estimated"] as? Int == 30)  // analyzed
        let chunks = try #require(a["chunks_total"] as? Int)
        #expect(chunks >= 1 && a["chunks_done"] as? Int == chunks)
        #expect(byName["public.b"]?["rows_done"] as? Int == 2)

        let metrics = try await service.call("GET", "/metrics").raw
        let tableA = #"pipeline="\#(pipelineID)",schema="public",table="a""#
        #expect(sample(metrics, "popsink_pipeline_snapshot_rows{\(tableA)}") == 30)
        #expect(sample(metrics, "popsink_pipeline_snapshot_rows_estimated{\(tableA)}") == 30)
        #expect(sample(metrics, "popsink_pipeline_snapshot_chunks_done{\(tableA)}") == Double(chunks))
        #expect(sample(metrics, "popsink_pipeline_snapshot_chunks{\(tableA)}") == Double(chunks))
        #expect(sample(metrics, #"popsink_pipeline_snapshot_tables_remaining{pipeline="\#(pipelineID)"}"#) == 0)
        #expect(sample(metrics, #"popsink_pipeline_events_total{pipeline="\#(pipelineID)",op="r"}"#) == 32)
        await service.stop()
    }

    /// The value of the one sample whose name and labels are exactly `series`
    /// (labels in the order the exposition writes them).
    private func sample(_ text: String, _ series: String) -> Double? {
        let lines = text.split(separator: "\n").filter { $0.hasPrefix(series + " ") }
        guard lines.count == 1, let value = lines[0].split(separator: " ").last else { return nil }
        return Double(value)
    }
}
