// Scenario 7 of the fault suite: while the pipeline is stopped, Postgres
// invalidates its slot (`max_slot_wal_keep_size`) and removes WAL the
// pipeline still needed. The next start must fail loudly, say WAL was lost
// and how to start over, and never resume silently from a later point.
// The cluster is the test's own: the setting applies to every slot.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct SlotInvalidatedTests {
        @Test(.timeLimit(.minutes(5)))
        func aSlotInvalidatedWhileStoppedIsALoudFailureWithTheRemedy() async throws {
            let postgres = try TestPostgres.privateCluster(extraSettings: ["max_slot_wal_keep_size=1MB"])
            defer { postgres.destroy() }
            let harness = try CaptureHarness(postgres: postgres, setup: CaptureHarness.singleTable)
            defer { harness.cleanUp() }
            try harness.execute("INSERT INTO t SELECT generate_series(1, 10)")
            try harness.capture()
            let storedBefore = try harness.allEvents().map(\.id)
            let checkpoint = try #require(try EventStoreReader(path: harness.storePath).checkpoint())

            // Several WAL segments past the slot, then checkpoints until Postgres gives the slot up.
            var next = 11
            let deadline = Date().addingTimeInterval(180)
            while try harness.execute(
                "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '\(harness.slotName)'"
            ).value("wal_status") != "lost" {
                guard Date() < deadline else {
                    Issue.record("the slot was not invalidated within 180 s")
                    return
                }
                try harness.execute("INSERT INTO t SELECT generate_series(\(next), \(next + 49_999))")
                next += 50_000
                try harness.execute("SELECT pg_switch_wal()")
                try harness.execute("CHECKPOINT")
            }

            guard case .failed(let error) = try harness.runToCurrent() else {
                Issue.record("a pipeline whose slot lost its WAL must fail")
                return
            }
            print("invalidated slot reported: \(error)")
            #expect(error.code == .slotInvalidated)
            #expect(!error.isRetryable)
            #expect(error.message.contains("invalidated"))
            #expect(error.remediation?.contains("fresh capture") == true)
            // Nothing was stored or confirmed past the checkpoint: no silent restart from a later point.
            #expect(try harness.allEvents().map(\.id) == storedBefore)
            #expect(try EventStoreReader(path: harness.storePath).checkpoint() == checkpoint)
        }
    }
}
