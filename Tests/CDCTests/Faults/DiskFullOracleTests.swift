// Scenario 9 of the fault suite under the oracle's load (DiskFullTests
// proves it with plain inserts): the store's small file system fills up
// while streamed transactions are being staged and groups committed. The
// pipeline must stop confirming, report `store_full`, and once space is
// freed resume with every committed change stored once.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct DiskFullOracleTests {
        @Test(.timeLimit(.minutes(5)))
        func aFullDiskUnderTheOracleLoadLosesNothing() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup())
            defer { harness.cleanUp() }
            let volume = try SmallVolume(megabytes: 32)
            defer { volume.unmount() }
            var config = try harness.config(endPosition: nil)
            config.storePath = volume.path + "/store/events.db"
            config.source["options"] = "-c logical_decoding_work_mem=64kB"
            config.retry = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .milliseconds(500))
            let pipeline = Pipeline(config: config)
            await pipeline.start()
            try await waitUntil("streaming") { pipeline.status.state == .streaming }
            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 2)
            try await workload.waitForCommits(20)

            let filler = volume.path + "/filler"
            try volume.fill(leaving: 256 << 10, with: filler)
            try await waitUntil("store_full") {
                if pipeline.status.state == .failed {
                    throw TestPostgresError(
                        "failed instead of retrying: \(String(describing: pipeline.status.lastError))")
                }
                return pipeline.status.state == .retrying && pipeline.status.lastError?.code == .storeFull
            }
            try await workload.waitForCommits(20)
            let reader = try EventStoreReader(path: config.storePath)
            let full = try #require(try reader.checkpoint())
            let confirmed = try #require(try harness.confirmedFlush())
            #expect(confirmed <= full.flushLSN, "slot confirmed \(confirmed) while the full store holds \(full)")

            try FileManager.default.removeItem(atPath: filler)
            let sessions = pipeline.status.sessionsStarted
            try await waitUntil("streaming again") {
                pipeline.status.state == .streaming && pipeline.status.sessionsStarted > sessions
            }
            try await workload.waitForCommits(20)
            await workload.stop()
            #expect(await pipeline.stop() == .stopped)
            config.endPosition = .current
            #expect(PipelineWorker(config: config).run() == .reachedEnd)

            let events = try Self.storedEvents(reader)
            try OracleCheck(ledger: workload.ledger, postgres: harness.postgres, database: harness.database)
                .verify(events, scenario: "store's disk full, then freed")
        }

        static func storedEvents(_ reader: EventStoreReader) throws -> [Event] {
            var events: [Event] = []
            var cursor: Int64 = 0
            while true {
                let page = try reader.events(after: cursor, limit: 10_000)
                guard let last = page.last else { return events }
                events += try page.map { try Event(stored: $0) }
                cursor = last.sequence
            }
        }
    }
}
