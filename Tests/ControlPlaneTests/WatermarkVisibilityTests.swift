// A backfill's chunk is read under a snapshot taken after its low watermark
// committed, and the watermark method takes every change streamed before
// that watermark to be visible to the snapshot. Postgres does not promise
// it: a transaction's commit record is written before the transaction
// leaves the process array, so a transaction can be streamed (its commit is
// in the WAL before the watermark) and yet be invisible to the chunk's
// snapshot. Here the gap is held open on purpose: a commit waiting for a
// synchronous standby that never answers is in the WAL, is decoded and
// streamed, and stays invisible until its wait is cancelled. A consumer
// applying the events must still end with the table.

import Blocking
import CDC
import Foundation
import PostgresReplication
import PostgresTestSupport
import Testing

@Suite struct WatermarkVisibilityTests {
    typealias Service = APIFlowTests.Service

    @Test(.timeLimit(.minutes(5)))
    func aChangeStreamedBeforeTheLowWatermarkButInvisibleToTheChunkIsNotUndone() async throws {
        // Every session commits locally unless it asks to wait for the standby that never comes.
        let postgres = try await Blocking.run {
            try TestPostgres.privateCluster(extraSettings: [
                "synchronous_standby_names=nobody", "synchronous_commit=local",
            ])
        }
        defer { postgres.destroy() }
        let database = try postgres.createDatabase()
        try postgres.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
            ALTER TABLE t REPLICA IDENTITY FULL;
            INSERT INTO t SELECT g, 0 FROM generate_series(1, 200) g;
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)
        let service = try Service()
        let id = "w\(database)"
        _ = try await service.runningPipeline(id, on: postgres, database: database)
        #expect(try await LifecycleTests.waitForState(service, id, "streaming") == "streaming")
        var follower = Follower(service: service, path: "/v1/pipelines/\(id)/events")
        try await follower.waitFor { $0.copy.count == 200 }

        // The update commits into the WAL and then waits for the standby, still invisible.
        let waitingPID = LockedValue<String?>(nil)
        let ended = LockedValue(false)
        let thread = Thread {
            do {
                let waiting = try postgres.connect(database: database)
                let pid = try waiting.query("SELECT pg_backend_pid()").rows.first?[0] ?? nil
                waitingPID.withLock { $0 = pid }
                _ = try? waiting.query("SET synchronous_commit = on; UPDATE t SET v = 999 WHERE id = 5")
            } catch {
                waitingPID.withLock { $0 = "failed: \(error)" }
            }
            ended.withLock { $0 = true }
        }
        thread.start()
        try await follower.waitFor { $0.copy[5] == 999 }
        #expect(!ended.withLock { $0 })
        #expect(try postgres.execute("SELECT v FROM t WHERE id = 5", database: database).rows.first?[0] == "0")

        // The backfill's chunks are read while the update is streamed but invisible.
        let posted = try await service.call("POST", "/v1/pipelines/\(id)/backfills", json: ["tables": ["public.t"]])
        #expect(posted.status == 202, "\(posted.raw)")
        let backfillID = try #require((posted.body as? [String: Any])?["id"] as? String)
        // While the update is invisible, every piece read misses it: none may be stored.
        try await Task.sleep(for: .seconds(2))
        let pending = try await service.call("GET", "/v1/pipelines/\(id)/backfills/\(backfillID)")
        let pendingBody = pending.body as? [String: Any]
        #expect(
            pendingBody?["state"] as? String != "done" && pendingBody?["chunks_done"] as? Int == 0,
            "a piece was stored while a streamed update was invisible to it: \(pending.raw)")
        // Released: the update becomes visible, as it was in the stream all along.
        let pid = try #require(waitingPID.withLock { $0 })
        _ = try postgres.execute("SELECT pg_cancel_backend(\(pid))")
        while !ended.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try postgres.execute("SELECT v FROM t WHERE id = 5", database: database).rows.first?[0] == "999")
        var state = ""
        for _ in 0..<600 where state != "done" {
            let shown = try await service.call("GET", "/v1/pipelines/\(id)/backfills/\(backfillID)")
            state = (shown.body as? [String: Any])?["state"] as? String ?? ""
            if state != "done" { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(state == "done", "the backfill did not finish once the update was visible (\(state))")

        try postgres.execute("INSERT INTO t VALUES (-1, 0)", database: database)
        try await follower.waitFor { $0.copy[-1] != nil }
        #expect(follower.copy[5] == 999, "the consumer's copy holds id 5 as \(String(describing: follower.copy[5]))")
        _ = try? await service.call("DELETE", "/v1/pipelines/\(id)?drop_slot=true")
        await service.stop()
    }

    /// A consumer applying every event of the pipeline: `id → v`.
    struct Follower {
        let service: Service
        let path: String
        var after = 0
        var copy: [Int: Int] = [:]

        mutating func waitFor(_ condition: (Follower) -> Bool) async throws {
            for _ in 0..<600 {
                try await poll()
                if condition(self) { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("the consumer's copy never got there: \(copy.count) rows")
        }

        mutating func poll() async throws {
            while true {
                let page = try await service.call("GET", "\(path)?after=\(after)&limit=5000")
                let events = (page.body as? [String: Any])?["events"] as? [[String: Any]] ?? []
                for entry in events {
                    after = max(after, entry["seq"] as? Int ?? after)
                    guard let event = entry["event"] as? [String: Any], let op = event["op"] as? String,
                        op != "s", op != "m"
                    else { continue }
                    let image = event[op == "d" ? "before" : "after"] as? [String: Any]
                    guard let key = image?["id"] as? Int else { continue }
                    copy[key] = op == "d" ? nil : image?["v"] as? Int
                }
                if events.count < 5000 { return }
            }
        }
    }
}
