// /v1/pipelines/{id}/backfills through a live service while writers update,
// delete and insert rows of the table: the backfill runs to `done`, its rows
// arrive as `r` events, and a consumer applying every event ends with the
// table exactly. Tables the pipeline does not capture are refused, and a
// pipeline that does not run answers 409.

import CDC
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

@Suite struct BackfillAPILiveTests {
    typealias Service = APIFlowTests.Service

    /// One writer thread: updates, deletes and inserts rows of `t` until stopped.
    final class Writer: Sendable {
        private let stopFlag = Atomic<Bool>(false)
        private let done = Atomic<Bool>(false)
        let failure = LockedValue<String?>(nil)

        init(postgres: TestPostgres, database: String) {
            Thread { [self] in
                do {
                    let connection = try postgres.connect(database: database)
                    var next = 1_000_000
                    while !stopFlag.load(ordering: .relaxed) {
                        next += 1
                        let id = Int.random(in: 1...5000)
                        try connection.query(
                            "BEGIN; UPDATE t SET v = v + 1 WHERE id = \(id); DELETE FROM t WHERE id = \(id + 1) AND v % 5 = 0; "
                                + "INSERT INTO t VALUES (\(next), 0); COMMIT")
                    }
                } catch {
                    failure.withLock { $0 = "\(error)" }
                }
                done.store(true, ordering: .sequentiallyConsistent)
            }.start()
        }

        func stop() async {
            stopFlag.store(true, ordering: .relaxed)
            while !done.load(ordering: .sequentiallyConsistent) { try? await Task.sleep(for: .milliseconds(20)) }
            if let failure = failure.withLock({ $0 }) { Issue.record("writer failed: \(failure)") }
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aBackfillUnderWritersRebuildsTheTable() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        try postgres.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
            ALTER TABLE t REPLICA IDENTITY FULL;
            INSERT INTO t SELECT g, 0 FROM generate_series(1, 5000) g;
            CREATE TABLE other (id int PRIMARY KEY);
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)
        let service = try Service()
        let id = "b\(database)"
        let slot = PipelineConfig.defaultSlot(pipelineID: id)!.rawValue
        defer { _ = try? postgres.execute("SELECT pg_drop_replication_slot('\(slot)')") }
        let sourceID = try await service.registerSource(postgres, database: database)
        let backfills = "/v1/pipelines/\(id)/backfills"
        let created = try await service.call(
            "PUT", "/v1/pipelines/\(id)", json: ["source_id": sourceID, "snapshot": ["chunk_pages": 4]])
        #expect(created.status == 201, "\(created.raw)")
        // Not running yet: refused.
        #expect(try await service.call("POST", backfills, json: ["tables": ["public.t"]]).status == 409)
        #expect(try await service.call("POST", "/v1/pipelines/\(id)/start").status == 200)
        #expect(try await LifecycleTests.waitForState(service, id, "streaming") == "streaming")

        let writer = Writer(postgres: postgres, database: database)
        try await Task.sleep(for: .milliseconds(300))
        let posted = try await service.call("POST", backfills, json: ["tables": ["public.t"]])
        #expect(posted.status == 202, "\(posted.raw)")
        let backfillID = try #require((posted.body as? [String: Any])?["id"] as? String)
        var state = ""
        var shown: [String: Any] = [:]
        for _ in 0..<1200 where state != "done" {
            shown = try await service.call("GET", "\(backfills)/\(backfillID)").body as? [String: Any] ?? [:]
            state = shown["state"] as? String ?? ""
            if state != "done" { try await Task.sleep(for: .milliseconds(100)) }
        }
        let status = try await service.call("GET", "/v1/pipelines/\(id)/status")
        #expect(state == "done", "\(shown) \(status.raw.prefix(1500))")
        #expect(
            (shown["chunks_total"] as? Int ?? 0) > 1 && shown["chunks_done"] as? Int == shown["chunks_total"] as? Int)
        #expect((shown["rows"] as? Int ?? 0) > 0)
        await writer.stop()
        let list = try await service.call("GET", backfills).body as? [String: Any]
        #expect((list?["backfills"] as? [[String: Any]])?.map { $0["id"] as? String } == [backfillID])

        // Refused: a table the pipeline does not capture, and malformed requests.
        let refused = try await service.call("POST", backfills, json: ["tables": ["public.other"]])
        #expect(refused.status == 202)
        let refusedID = (refused.body as? [String: Any])?["id"] as? String ?? ""
        var refusedState = ""
        for _ in 0..<300 where refusedState != "failed" {
            refusedState =
                (try await service.call("GET", "\(backfills)/\(refusedID)").body as? [String: Any])?["state"]
                as? String ?? ""
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(refusedState == "failed")
        #expect(try await service.call("POST", backfills, json: ["tables": []]).status == 422)
        #expect(try await service.call("POST", backfills, json: ["tables": ["t"]]).status == 422)
        #expect(try await service.call("POST", backfills, json: ["table": ["public.t"]]).status == 422)
        #expect(try await service.call("GET", "\(backfills)/bf_nope").status == 404)

        // A consumer applying every event holds the table.
        try postgres.execute("INSERT INTO t VALUES (-1, 0)", database: database)
        var copy: [Int: Int] = [:]
        var reads = 0
        var backfillReads = 0
        var ids = Set<String>()
        var repeated = 0
        var after = 0
        var sawMarker = false
        for _ in 0..<600 where !sawMarker {
            let page = try await service.call("GET", "/v1/pipelines/\(id)/events?after=\(after)&limit=5000")
            let events = (page.body as? [String: Any])?["events"] as? [[String: Any]] ?? []
            for entry in events {
                after = max(after, entry["seq"] as? Int ?? after)
                guard let event = entry["event"] as? [String: Any], let op = event["op"] as? String else { continue }
                if !ids.insert(event["id"] as? String ?? "").inserted { repeated += 1 }
                let image = event[op == "d" ? "before" : "after"] as? [String: Any]
                guard let key = image?["id"] as? Int else { continue }
                if op == "r" {
                    reads += 1
                    if (event["source"] as? [String: Any])?["backfill"] as? String == backfillID { backfillReads += 1 }
                }
                copy[key] = op == "d" ? nil : image?["v"] as? Int
                if key == -1 { sawMarker = true }
            }
            if events.count < 5000 && !sawMarker { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(sawMarker)
        #expect(repeated == 0, "event ids repeat")
        #expect(reads > 5000, "the backfill's r events come on top of the initial load's 5000: \(reads)")
        #expect(backfillReads == reads - 5000, "the backfill's r events name it in source.backfill")
        #expect(backfillReads == shown["rows"] as? Int, "as many r events as the backfill reports rows")
        var source: [Int: Int] = [:]
        for row in try postgres.execute("SELECT id, v FROM t", database: database).rows {
            source[Int(row[0]!)!] = Int(row[1]!)!
        }
        #expect(copy.count == source.count)
        let differing = source.keys.filter { copy[$0] != source[$0] }.count
        #expect(differing == 0, "\(differing) rows differ")

        // Stopped: the list is read from the store.
        #expect(try await service.call("POST", "/v1/pipelines/\(id)/stop").status == 200)
        let stored = try await service.call("GET", backfills).body as? [String: Any]
        let storedStates = (stored?["backfills"] as? [[String: Any]])?.map { $0["state"] as? String ?? "" }
        #expect(storedStates == ["done", "failed"], "\(String(describing: stored))")

        _ = try await service.call("DELETE", "/v1/pipelines/\(id)?drop_slot=true")
        await service.stop()
    }
}
