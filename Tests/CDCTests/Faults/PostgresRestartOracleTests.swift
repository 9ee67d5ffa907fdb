// Scenarios 3 and 4 of the fault suite: the source server goes away under
// the oracle's write load, by fast shutdown and by crash (`pg_ctl stop -m
// immediate`), during the initial load, during streaming, and while the
// walsender streams a transaction that the crash then aborts. The pipeline
// must reconnect by itself and resume exactly; a fast shutdown must not be
// held up by our walsender (pg_ctl gives up, and the test fails, if it is).
// The cluster is the test's own: the shared one serves other tests.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct PostgresRestartOracleTests {
        @Test(.timeLimit(.minutes(10)))
        func shutdownsAndCrashesMidLoadAndMidStreamResumeExactly() async throws {
            let postgres = try TestPostgres.privateCluster()
            defer { postgres.destroy() }
            let harness = try CaptureHarness(postgres: postgres, setup: OracleSchema.setup(preloadedRows: 60_000))
            defer { harness.cleanUp() }
            var config = try harness.config(endPosition: nil)
            config.source["options"] = "-c logical_decoding_work_mem=64kB"
            config.snapshot = SnapshotOptions(workers: 1, chunkPages: 32, rowsPerGroup: 500)
            config.retry = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1))
            let workload = OracleWorkload(postgres: postgres, database: harness.database, writers: 3)
            let pipeline = Pipeline(config: config)
            await pipeline.start()

            let rounds: [(String, TestPostgres.StopMode)] = [
                ("crash during the load", .immediate),
                ("fast shutdown while streaming", .fast),
                ("crash while streaming", .immediate),
                ("fast shutdown while streaming", .fast),
                ("crash while streaming", .immediate),
            ]
            // Sessions counted when the server went down: the new session may
            // start before the next round looks (on a quiet machine it did,
            // and a count taken then waited for one more that never came).
            var sessionsAtStop = 0
            for (index, (name, mode)) in rounds.enumerated() {
                let stored = harness.storedSequence()
                try await waitUntil(
                    "\(name): the pipeline stores again",
                    situation: {
                        let status = pipeline.status
                        return "(state \(status.state), sessions \(status.sessionsStarted) at stop "
                            + "\(sessionsAtStop), stored \(harness.storedSequence()) from \(stored), last error "
                            + "\(status.lastError.map { "\($0.code.rawValue): \($0.message)" } ?? "none"))"
                    }
                ) {
                    let status = pipeline.status
                    let streaming =
                        index == 0 || (status.state == .streaming && status.sessionsStarted > sessionsAtStop)
                    return streaming && harness.storedSequence() > stored
                }
                let state = pipeline.status.state
                let started = ContinuousClock.now
                sessionsAtStop = pipeline.status.sessionsStarted
                try postgres.stop(mode: mode)
                print("\(name): stopped (\(mode.rawValue)) in \(ContinuousClock.now - started), pipeline was \(state)")
                try postgres.start()
                try await workload.waitForCommits(20)
            }

            // A crash while the walsender streams a transaction that has not
            // committed: it never will, and nothing of it may be stored.
            let streamingSessions = pipeline.status.sessionsStarted
            try await waitUntil("streaming before the crash of a streamed transaction") {
                pipeline.status.state == .streaming && pipeline.status.sessionsStarted >= streamingSessions
            }
            let streamedBefore = try streamedBytes(harness)
            do {
                try await workload.largeTransaction(writer: 90, rows: 3_000) {
                    // At least the held transaction's size (about 0.7 MB) streamed since its insert.
                    try await waitUntil("the held transaction streamed") {
                        try streamedBytes(harness) > streamedBefore + 600_000
                    }
                    try postgres.stop(mode: .immediate)
                }
                Issue.record("a transaction committed across a crash of its server")
            } catch {
                print("crash during a streamed transaction: its COMMIT failed as it must (\(error))".prefix(300))
            }
            try postgres.start()

            let sessions = pipeline.status.sessionsStarted
            try await waitUntil("the pipeline streams after the last restart") {
                pipeline.status.state == .streaming && pipeline.status.sessionsStarted > sessions
            }
            await workload.stop()
            #expect(await pipeline.stop() == .stopped)
            try harness.capture()
            try OracleCheck(ledger: workload.ledger, postgres: postgres, database: harness.database, resumedLoad: true)
                .verify(try harness.allEvents(), scenario: "Postgres fast shutdowns and crashes x\(rounds.count + 1)")
        }

        func streamedBytes(_ harness: CaptureHarness) throws -> Int64 {
            try harness.execute(
                "SELECT coalesce(sum(stream_bytes), 0) AS bytes FROM pg_stat_replication_slots WHERE slot_name = '\(harness.slotName)'"
            ).value("bytes").flatMap { Int64($0) } ?? 0
        }
    }
}
