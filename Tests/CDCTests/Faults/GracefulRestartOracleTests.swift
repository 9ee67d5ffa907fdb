// Scenario 2 of the fault suite, and the oracle's own check: graceful stops
// and starts of a pipeline under the oracle's write load store every
// committed change once, and each stop confirms to Postgres exactly what is
// stored, so nothing is sent again at the next start. Then the same events,
// tampered with (one lost, one repeated, two transactions swapped, a
// rolled-back change slipped in), must each fail the oracle: a check that
// cannot fail proves nothing.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct GracefulRestartOracleTests {
        @Test(.timeLimit(.minutes(6)))
        func gracefulRestartsUnderLoadStoreEverythingOnceAndConfirmWhatIsStored() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup())
            defer { harness.cleanUp() }
            try harness.capture()
            var config = try harness.config(endPosition: nil)
            config.source["options"] = "-c logical_decoding_work_mem=64kB"
            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 3)
            for round in 0..<5 {
                let pipeline = Pipeline(config: config)
                await pipeline.start()
                let stored = harness.storedSequence()
                try await waitUntil("round \(round): the pipeline stores") {
                    pipeline.status.state == .streaming && harness.storedSequence() > stored
                }
                #expect(await pipeline.stop() == .stopped)
                // Once the walsender has read the final status update and
                // ended, the slot has confirmed exactly the store's checkpoint.
                try await waitUntil("round \(round): the walsender ends") {
                    try harness.execute(
                        "SELECT active FROM pg_replication_slots WHERE slot_name = '\(harness.slotName)'"
                    ).value("active") == "f"
                }
                let checkpoint = try #require(try EventStoreReader(path: harness.storePath).checkpoint())
                let confirmed = try #require(try harness.confirmedFlush())
                #expect(
                    confirmed == checkpoint.flushLSN,
                    "round \(round): slot at \(confirmed), store at \(checkpoint)")
            }
            await workload.stop()
            try harness.capture()
            let events = try harness.allEvents()
            let check = OracleCheck(ledger: workload.ledger, postgres: harness.postgres, database: harness.database)
            try check.verify(events, scenario: "graceful restarts x5")

            // The oracle fails on each kind of damage.
            let changes = events.enumerated().filter { $0.element.op != "s" && $0.element.op != "r" }.map(\.offset)
            let middle = try #require(changes.dropFirst(changes.count / 2).first)
            var lost = events
            lost.remove(at: middle)
            #expect(!(try check.check(lost).problems.isEmpty), "a lost event passed the oracle")
            var repeated = events
            repeated.insert(events[middle], at: middle + 1)
            #expect(!(try check.check(repeated).problems.isEmpty), "a repeated event passed the oracle")
            var swapped = events
            let last = try #require(changes.last)
            let lastLSN = events[last].source["commit_lsn"] as? String
            let firstOfLast = try #require(
                changes.first { events[$0].source["commit_lsn"] as? String == lastLSN })
            let moved = Array(swapped[firstOfLast...last])
            swapped.removeSubrange(firstOfLast...last)
            swapped.insert(contentsOf: moved, at: middle)
            #expect(!(try check.check(swapped).problems.isEmpty), "transactions out of commit order passed the oracle")
            let rolledBack = workload.ledger.transactions.values.first {
                $0.outcome == .rolledBack && !$0.changes.isEmpty
            }
            if let rolledBack, let change = rolledBack.changes.first {
                var smuggled = events
                var json = events[middle].json
                var source = json["source"] as? [String: Any] ?? [:]
                source["table"] = change.table
                json["source"] = source
                json["op"] = change.op
                json["id"] = "smuggled"
                json["after"] = ["id": change.id, "writer": rolledBack.id.writer, "version": change.version]
                json["before"] = ["id": change.id, "writer": rolledBack.id.writer, "version": change.version]
                smuggled.insert(
                    try Event(line: String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)),
                    at: middle + 1)
                #expect(!(try check.check(smuggled).problems.isEmpty), "a rolled-back change passed the oracle")
            } else {
                Issue.record("the workload rolled back no transaction with changes")
            }
        }
    }
}
