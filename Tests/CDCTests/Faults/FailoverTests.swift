// Scenario 8 of the fault suite, failover: the source's primary dies and a
// streaming standby is promoted in its place. On Postgres 15 the standby has
// none of the primary's logical slots (they are neither copied by
// pg_basebackup nor synced), so what the pipeline confirmed is gone with the
// old primary. What we do: refuse, loudly and without retrying, and create
// nothing on the new primary. A new slot there would start from its own
// present, silently skipping every change between the last confirmed
// position and the failover; the remedy is a re-snapshot.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct FailoverTests {
        @Test(.timeLimit(.minutes(8)))
        func aPromotedStandbyWithoutTheSlotIsRefusedNotSilentlySkipped() async throws {
            let primary = try TestPostgres.privateCluster()
            defer { primary.destroy() }
            let harness = try CaptureHarness(postgres: primary, setup: OracleSchema.setup())
            defer { harness.cleanUp() }
            var config = try harness.config(endPosition: nil)
            let workload = OracleWorkload(postgres: primary, database: harness.database, writers: 2)
            let pipeline = Pipeline(config: config)
            await pipeline.start()
            try await waitUntil("streaming") {
                pipeline.status.state == .streaming && harness.storedSequence() > 0
            }
            let standby = try primary.standby()
            defer { standby.destroy() }
            try await workload.waitForCommits(20)
            await workload.stop()
            #expect(await pipeline.stop() == .stopped)
            let stored = harness.storedSequence()

            // The standby has everything the primary wrote, then takes over.
            let end = try #require(
                try primary.execute("SELECT pg_current_wal_lsn()::text AS lsn").value("lsn"))
            try await waitUntil("the standby replays the primary's WAL") {
                try standby.execute("SELECT pg_last_wal_replay_lsn() >= '\(end)'::pg_lsn AS caught").value("caught")
                    == "t"
            }
            try primary.stop(mode: .immediate)
            try standby.promote()

            config.source["port"] = String(standby.port)
            let afterFailover = Pipeline(config: config)
            await afterFailover.start()
            try await waitUntil("the pipeline refuses the new primary") { afterFailover.status.state == .failed }
            let error = try #require(afterFailover.status.lastError)
            print("failover to a promoted standby reported: \(error)")
            #expect(error.code == .slotMissing, "\(error)")
            #expect(!error.isRetryable)
            #expect(error.remediation?.isEmpty == false)
            #expect(harness.storedSequence() == stored, "events were stored from the new primary")
            #expect(
                try standby.execute("SELECT count(*) AS slots FROM pg_replication_slots").value("slots") == "0",
                "a slot was created on the new primary")
            _ = await afterFailover.stop()
        }
    }
}
