// Scenario 5 of the fault suite, the load's side: `pg_terminate_backend` on
// every connection of the initial load while it runs, then on the walsender
// once streaming, under the oracle's write load. The pipeline must retry,
// finish the load from where it was and stream exactly.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct TerminatedBackendsTests {
        @Test(.timeLimit(.minutes(8)))
        func terminatedLoadConnectionsAndWalsenderAreRetriedExactly() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup(preloadedRows: 60_000))
            defer { harness.cleanUp() }
            var config = try harness.config(endPosition: nil)
            config.snapshot = SnapshotOptions(workers: 2, chunkPages: 32, rowsPerGroup: 500)
            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 2)
            let pipeline = Pipeline(config: config)
            await pipeline.start()

            var terminated = 0
            try await waitUntil("a load connection to terminate") {
                guard harness.storedSequence() > 0 else { return false }
                terminated = try terminate(harness, where: "application_name = 'popsink-pg load'")
                return terminated > 0 || pipeline.status.state == .streaming
            }
            #expect(terminated > 0, "the load finished before any of its connections could be terminated")
            try await waitUntil("streaming after the load") { pipeline.status.state == .streaming }

            let sessions = pipeline.status.sessionsStarted
            let stored = harness.storedSequence()
            try await waitUntil("stored while streaming") { harness.storedSequence() > stored }
            #expect(try terminate(harness, where: "backend_type = 'walsender'") == 1)
            try await waitUntil("a new session after the walsender's end") {
                pipeline.status.sessionsStarted > sessions && pipeline.status.state == .streaming
            }
            try await workload.waitForCommits(20)
            await workload.stop()
            #expect(await pipeline.stop() == .stopped)
            try harness.capture()
            try OracleCheck(
                ledger: workload.ledger, postgres: harness.postgres, database: harness.database, resumedLoad: true
            ).verify(try harness.allEvents(), scenario: "load connections and walsender terminated")
        }

        /// Terminates this test database's backends matching `condition`; returns how many.
        func terminate(_ harness: CaptureHarness, where condition: String) throws -> Int {
            try harness.execute(
                """
                SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
                WHERE datname = '\(harness.database)' AND pid <> pg_backend_pid() AND \(condition)
                """
            ).value("n").flatMap { Int($0) } ?? 0
        }
    }
}
