// Scenario 1 of the fault suite, during an on-demand backfill: a backfill of
// `oracle_items` asked for through `POST /v1/pipelines/{id}/backfills` on the
// `serve` binary, which is killed with SIGKILL at random points while the
// backfill reads and the oracle's writers change the same table. After each
// restart the backfill must go on from its stored chunk progress, not from
// the start, and in the end the consumer's copy must equal the source and
// every committed change be stored once, in commit order.
//
// The pipeline streams without an initial load, so the 60,000 preloaded rows
// reach the store only through the backfill: the final comparison with the
// source proves the backfill complete. Preloaded rows past the shared ones
// are never updated and stay on their pages, so each is read by exactly one
// piece: read twice means a piece was read again after its progress was
// stored (a restart from the start), never read means a piece was lost.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import PostgresWire
import Testing

extension HeavyTests {
    @Suite struct KillDuringRequestedBackfillTests {
        static let preloaded = 60_000

        @Test(.timeLimit(.minutes(12)))
        func killsDuringAnAPIBackfillResumeItAndLoseNothing() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup(preloadedRows: Self.preloaded))
            defer { harness.cleanUp() }
            let dataDirectory = harness.dataDirectory.path
            let pipeline = harness.pipelineID
            var serve = try await ServeUnderTest.start(dataDirectory: dataDirectory)
            defer { serve.stop() }
            let sourceID = try serve.createSource(harness.postgres, database: harness.database)
            _ = try serve.api.json(
                "PUT", "/v1/pipelines/\(pipeline)",
                #"{"source_id":"\#(sourceID)","publication":"popsink","receive_timeout":30,"snapshot":{"enabled":false,"chunk_pages":32,"rows_per_group":500}}"#
            )
            _ = try serve.api.json("POST", "/v1/pipelines/\(pipeline)/start", "")
            try await waitUntil("streaming") { try serve.status(pipeline)["state"] as? String == "streaming" }

            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 2)
            try await workload.waitForCommits(20)
            // No condition: the request's format for conditions is not what this test is about. The
            // read cap stretches the backfill over seconds, so that the kills land inside it.
            let requested = try serve.api.json(
                "POST", "/v1/pipelines/\(pipeline)/backfills",
                #"{"tables":["public.oracle_items"],"max_rows_per_second":4000}"#)
            let backfillID = try #require(requested["id"] as? String, "\(requested)")

            var kills: [(sequence: Int64, chunksDone: Int, chunksTotal: Int)] = []
            let before = try liveBackfill(serve, pipeline, backfillID)
            for round in 0..<4 {
                // Some progress since the (re)start, then a random moment within about half a second.
                let minimum = (kills.last?.chunksDone ?? 0) + Int.random(in: 1...3)
                var live: [String: Any] = [:]
                try await waitUntil(
                    "round \(round): the backfill stores chunk \(minimum)",
                    situation: { "\(live) \(serve.process.output().suffix(2_000))" }
                ) {
                    guard serve.process.isRunning else {
                        throw TestPostgresError("serve exited: \(serve.process.output())")
                    }
                    live = try liveBackfill(serve, pipeline, backfillID)
                    return (intValue(live["chunks_done"]) ?? 0) >= minimum || live["state"] as? String == "done"
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...500)))
                serve.process.kill()
                let progress = try storedChunkProgress(harness, backfillID)
                guard progress.done < progress.total else { break }
                // The restart must not go back: its first pieces start where this progress ends.
                kills.append((harness.storedSequence(), progress.done, progress.total))
                serve = try await ServeUnderTest.start(dataDirectory: dataDirectory)
            }
            #expect(before["state"] as? String != "done", "the backfill was done before the first kill")
            #expect(kills.count >= 3, "only \(kills.count) kills landed before the backfill finished")

            try await waitUntil("the backfill is done", situation: { "\(serve.process.output().suffix(2_000))" }) {
                let list = try serve.api.json("GET", "/v1/pipelines/\(pipeline)/backfills")
                let mine = (list["backfills"] as? [[String: Any]])?.first { $0["id"] as? String == backfillID }
                return mine?["state"] as? String == "done"
            }
            await workload.stop()
            let end = try #require(
                try harness.execute("SELECT pg_current_wal_lsn()::text").rows.first?[0].flatMap { LSN($0) })
            try await waitUntil("everything the writers committed is stored") {
                let reader = try EventStoreReader(path: harness.storePath)
                defer { reader.close() }
                return (try reader.checkpoint()?.flushLSN ?? .zero) >= end
            }
            serve.stop()

            let events = try harness.allEvents()
            let rows = events.filter { $0.op == "r" && $0.table == "oracle_items" }
            var readCount: [Int: Int] = [:]
            for row in rows {
                guard let id = intValue(row.after?["id"]), id > OracleSchema.sharedRows, id <= Self.preloaded else {
                    continue
                }
                readCount[id, default: 0] += 1
            }
            let twice = readCount.filter { $0.value > 1 }.keys.sorted()
            let never = (OracleSchema.sharedRows + 1...Self.preloaded).filter { readCount[$0] == nil }
            print(
                "kill -9 during an API backfill: \(kills.count) kills at chunks "
                    + "\(kills.map { "\($0.chunksDone)/\($0.chunksTotal)" }.joined(separator: ", ")); "
                    + "\(rows.count) rows read, \(twice.count) untouched rows read twice, \(never.count) never")
            #expect(twice.isEmpty, "rows read again after a restart (the backfill started over?): \(twice.prefix(5))")
            #expect(never.isEmpty, "rows never read: \(never.prefix(5))")

            // After each restart, the first piece read starts where the stored progress left off.
            for (index, kill) in kills.enumerated() {
                let beforeKill = Set(
                    rows.filter { $0.sequence <= kill.sequence }.compactMap { intValue($0.after?["id"]) }
                        .filter { $0 > OracleSchema.sharedRows && $0 <= Self.preloaded })
                let afterKill = rows.filter { $0.sequence > kill.sequence }.compactMap { intValue($0.after?["id"]) }
                    .filter { $0 > OracleSchema.sharedRows && $0 <= Self.preloaded }
                #expect(kill.chunksDone > 0 && beforeKill.count > 0, "kill \(index): nothing stored before it")
                #expect(
                    (afterKill.min() ?? .max) > (beforeKill.max() ?? 0),
                    "kill \(index): the restart read rows from before its stored progress")
            }
            #expect(workload.failures.isEmpty, "\(workload.failures.prefix(3))")
            try OracleCheck(
                ledger: workload.ledger, postgres: harness.postgres, database: harness.database, resumedLoad: true
            ).verify(events, scenario: "kill -9 during an API backfill")
        }

        /// The backfill as the running pipeline reports it.
        func liveBackfill(_ serve: ServeUnderTest, _ pipeline: String, _ id: String) throws -> [String: Any] {
            let list = try serve.api.json("GET", "/v1/pipelines/\(pipeline)/backfills")
            return (list["backfills"] as? [[String: Any]])?.first { $0["id"] as? String == id } ?? [:]
        }

        /// The backfill's chunks done and planned, from the store (`serve` killed).
        func storedChunkProgress(_ harness: CaptureHarness, _ id: String) throws -> (done: Int, total: Int) {
            let store = try EventStoreWriter(path: harness.storePath)
            defer { store.close() }
            let backfill = try #require(Backfill.decode(try store.metadata(Backfill.metadataKey)).first { $0.id == id })
            let mine = Set(backfill.chunks)
            let chunks = try store.snapshotChunks().filter { mine.contains($0.id) }
            return (chunks.count { $0.isDone }, chunks.count)
        }
    }
}
