// Scenario 5 of the fault suite, the part the walsender-termination test
// does not cover: another process holds the pipeline's slot ("replication
// slot ... is active for PID ..."). The pipeline must say so in its status,
// keep retrying, and recover by itself when the other process goes, with
// nothing lost under the oracle's write load. The holder streams from the
// slot without ever confirming, so the slot's position is left as it was.

import CDC
import Foundation
import PipelineTestSupport
import PostgresReplication
import PostgresTestSupport
import PostgresWire
import Testing

extension HeavyTests {
    @Suite struct SlotHeldElsewhereTests {
        @Test(.timeLimit(.minutes(5)))
        func aSlotHeldByAnotherProcessIsReportedAndRecoveredFromByItself() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup())
            defer { harness.cleanUp() }
            try harness.capture()
            var holder: PostgresConnection? = try PostgresConnection(
                settings: harness.postgres.settings(database: harness.database), mode: .logicalReplication)
            _ = try holder?.startLogicalReplication(
                slot: harness.slotName, start: .zero, protocolVersion: 1, publications: ["popsink"])

            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 2)
            let pipeline = Pipeline(config: try harness.config(endPosition: nil))
            await pipeline.start()
            try await waitUntil("the pipeline reports the slot in use") {
                pipeline.status.state == .retrying && pipeline.status.lastError?.sqlState == "55006"
            }
            let error = try #require(pipeline.status.lastError)
            print("slot held elsewhere reported: \(error)")
            #expect(error.isRetryable)
            #expect(error.remediation?.contains("Another process is using the replication slot") == true)
            try await workload.waitForCommits(50)

            holder = nil  // closes the connection; its walsender lets go of the slot
            try await waitUntil("the pipeline streams once the slot is free") {
                pipeline.status.state == .streaming
            }
            try await workload.waitForCommits(50)
            await workload.stop()
            #expect(await pipeline.stop() == .stopped)
            try harness.capture()
            try OracleCheck(ledger: workload.ledger, postgres: harness.postgres, database: harness.database)
                .verify(try harness.allEvents(), scenario: "slot held by another process, then released")
        }
    }
}
