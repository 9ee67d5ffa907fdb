// Scenario 6 of the fault suite: the network between the pipeline and
// Postgres breaks, through a TCP proxy the test owns, while the oracle's
// writers run. A reset (RST both ways) is seen at once; a half-open
// connection (the server's side gone, ours silent, no FIN) only by the
// pipeline's receive timeout: a query without an answer (everything stalled),
// or a replication stream that does not answer a keepalive request (only the
// walsender's connection stalled). Either way the pipeline
// must reconnect by itself and resume exactly.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct NetworkFaultOracleTests {
        @Test(.timeLimit(.minutes(8)))
        func resetsAndHalfOpenConnectionsAreDetectedAndResumedExactly() async throws {
            let harness = try CaptureHarness(setup: OracleSchema.setup())
            defer { harness.cleanUp() }
            try harness.capture()
            let proxy = try TCPProxy(upstreamPort: harness.postgres.port)
            defer { proxy.close() }
            var config = try harness.config(endPosition: nil)
            config.source["port"] = String(proxy.port)
            config.source["options"] = "-c logical_decoding_work_mem=64kB"
            config.receiveTimeout = .seconds(4)
            // A second between a failure and the next attempt: long enough for the test to read the error.
            config.retry = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(2))
            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 3)
            let pipeline = Pipeline(config: config)
            await pipeline.start()

            var errors: [String] = []
            for (round, fault) in ["reset", "stall", "reset", "stall replication"].enumerated() {
                let stored = harness.storedSequence()
                try await waitUntil("round \(round): the pipeline stores again") {
                    pipeline.status.state == .streaming && harness.storedSequence() > stored
                }
                let sessions = pipeline.status.sessionsStarted
                switch fault {
                case "reset": proxy.reset()
                case "stall": proxy.stall()
                default: proxy.stallReplication()
                }
                var seen: PipelineError?
                try await waitUntil("round \(round): a new session after the \(fault)") {
                    if let error = pipeline.status.lastError { seen = error }
                    return pipeline.status.sessionsStarted > sessions
                }
                if fault == "stall replication" {
                    // Only the stream's silence watch can see this one.
                    #expect(
                        seen?.message.contains("nothing arrived on the replication connection") == true,
                        "a half-open replication connection reported \(String(describing: seen))")
                }
                errors.append("\(fault): \(seen.map { "\($0.code.rawValue): \($0.message)" } ?? "no error seen")")
            }
            print("network faults, errors the pipeline reported:\n  " + errors.joined(separator: "\n  "))
            try await workload.waitForCommits(20)
            await workload.stop()
            #expect(await pipeline.stop() == .stopped)
            try harness.capture()
            try OracleCheck(ledger: workload.ledger, postgres: harness.postgres, database: harness.database)
                .verify(try harness.allEvents(), scenario: "network resets and half-open stalls x4")
        }
    }
}
