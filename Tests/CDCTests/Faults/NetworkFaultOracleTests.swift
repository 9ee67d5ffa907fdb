// Scenario 6 of the fault suite: the network between the pipeline and
// Postgres breaks, through a TCP proxy the test owns, while the oracle's
// writers run. A slow link must not be taken for a dead one; a reset (RST both ways) is seen at once; a half-open
// connection (the server's side gone, ours silent, no FIN) only by the
// pipeline's receive timeout: a query without an answer (everything stalled),
// or a replication stream that does not answer a keepalive request (only the
// walsender's connection stalled). Either way the pipeline
// must reconnect by itself and resume exactly.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Synchronization
import Testing

extension HeavyTests {
    @Suite struct NetworkFaultOracleTests {
        @Test(.timeLimit(.minutes(8)))
        func resetsAndHalfOpenConnectionsAreDetectedAndResumedExactly() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup())
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
            for (round, fault) in ["reset", "stall", "slow link", "reset", "stall replication"].enumerated() {
                let stored = harness.storedSequence()
                try await waitUntil(
                    "round \(round): the pipeline stores again",
                    situation: {
                        let status = pipeline.status
                        return "(state \(status.state), sessions \(status.sessionsStarted), stored "
                            + "\(harness.storedSequence()) from \(stored), last error "
                            + "\(status.lastError.map { "\($0.code.rawValue): \($0.message)" } ?? "none"))"
                    }
                ) {
                    pipeline.status.state == .streaming && harness.storedSequence() > stored
                }
                let sessions = pipeline.status.sessionsStarted
                if fault == "slow link" {
                    // 64 kB/s both ways: far slower than the writers, never silent. No reconnect may follow.
                    proxy.throttle(bytesPerSecond: 64 << 10)
                    let slowStart = harness.storedSequence()
                    try await waitUntil("stored through the slow link") { harness.storedSequence() > slowStart + 2_000 }
                    #expect(
                        pipeline.status.sessionsStarted == sessions,
                        "a slow link was taken for a dead one: \(String(describing: pipeline.status.lastError))")
                    proxy.throttle(bytesPerSecond: 0)
                    errors.append("slow link: no error, no reconnect")
                    continue
                }
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
            let outcome = await pipeline.stop()
            #expect(outcome == .stopped, "\(String(describing: outcome))")
            try harness.capture()
            try OracleCheck(ledger: workload.ledger, postgres: harness.postgres, database: harness.database)
                .verify(try harness.allEvents(), scenario: "network resets, half-open stalls and a slow link x5")
        }

        /// The first load's planner and parallel workers read through the
        /// proxy too: a stall there must end in a reconnect and a resumed load.
        @Test(.timeLimit(.minutes(8)))
        func aStallDuringTheFirstLoadIsDetectedAndTheLoadResumesExactly() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup(preloadedRows: 60_000))
            defer { harness.cleanUp() }
            let proxy = try TCPProxy(upstreamPort: harness.postgres.port)
            defer { proxy.close() }
            var config = try harness.config(endPosition: nil)
            config.source["port"] = String(proxy.port)
            config.snapshot = SnapshotOptions(workers: 2, chunkPages: 64, rowsPerGroup: 500)
            config.receiveTimeout = .seconds(4)
            config.retry = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(2))
            // Slow enough that the load is still reading when the stall comes.
            proxy.throttle(bytesPerSecond: 256 << 10)
            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 2)
            let pipeline = Pipeline(config: config)
            await pipeline.start()
            try await waitUntil("the first load stores rows") {
                pipeline.status.state == .snapshotting && harness.storedSequence() > 2_000
            }
            #expect(pipeline.status.sessionsStarted == 0, "the load was not the first one")
            proxy.stall()
            proxy.throttle(bytesPerSecond: 0)
            var seen: PipelineError?
            try await waitUntil("a new session after the stall") {
                if let error = pipeline.status.lastError { seen = error }
                return pipeline.status.sessionsStarted > 0
            }
            print("stall during the first load reported: \(seen.map(String.init(describing:)) ?? "no error seen")")
            try await waitUntil("the load finishes") { pipeline.status.state == .streaming }
            try await workload.waitForCommits(20)
            await workload.stop()
            #expect(await pipeline.stop() == .stopped)
            try harness.capture()
            try OracleCheck(
                ledger: workload.ledger, postgres: harness.postgres, database: harness.database, resumedLoad: true
            ).verify(try harness.allEvents(), scenario: "network stall during the first load")
        }

        /// A load resumed with watermarks reads its pieces on the replication
        /// thread: a stalled network there must end in a reconnect, not a hang.
        @Test(.timeLimit(.minutes(8)))
        func aStallDuringAResumedLoadIsDetectedAndTheLoadFinishesExactly() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup(preloadedRows: 60_000))
            defer { harness.cleanUp() }
            var config = try harness.config(endPosition: nil)
            config.snapshot = SnapshotOptions(workers: 1, chunkPages: 32, rowsPerGroup: 500)
            // A first run, stopped once a chunk is stored (watched from a thread of its own, as in SnapshotResumeTests).
            let first = PipelineWorker(config: config)
            let outcome = Mutex<PipelineOutcome?>(nil)
            first.start { result in outcome.withLock { $0 = result } }
            let stopper = Thread { [first] in
                let deadline = Date().addingTimeInterval(120)
                while first.progress.status.snapshot.reduce(0, { $0 + $1.chunksDone }) == 0, Date() < deadline {
                    usleep(500)
                }
                first.requestStop()
            }
            stopper.start()
            try await waitUntil("the first run stops") { outcome.withLock { $0 } != nil }
            #expect(outcome.withLock { $0 } == .stopped)

            let proxy = try TCPProxy(upstreamPort: harness.postgres.port)
            defer { proxy.close() }
            config.source["port"] = String(proxy.port)
            config.receiveTimeout = .seconds(4)
            config.retry = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(2))
            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 2)
            let pipeline = Pipeline(config: config)
            await pipeline.start()
            let stored = harness.storedSequence()
            try await waitUntil("the resumed load stores") {
                pipeline.status.state == .snapshotting && harness.storedSequence() > stored
            }
            let sessions = pipeline.status.sessionsStarted
            proxy.stall()
            var seen: PipelineError?
            try await waitUntil("a new session after the stall") {
                if let error = pipeline.status.lastError { seen = error }
                return pipeline.status.sessionsStarted > sessions
            }
            print("stall during a resumed load reported: \(seen.map(String.init(describing:)) ?? "no error seen")")
            try await waitUntil("the load finishes") { pipeline.status.state == .streaming }
            try await workload.waitForCommits(20)
            await workload.stop()
            #expect(await pipeline.stop() == .stopped)
            try harness.capture()
            try OracleCheck(
                ledger: workload.ledger, postgres: harness.postgres, database: harness.database, resumedLoad: true
            ).verify(try harness.allEvents(), scenario: "network stall during a resumed load")
        }
    }
}
