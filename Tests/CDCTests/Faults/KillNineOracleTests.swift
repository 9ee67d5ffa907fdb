// Scenario 1 of the fault suite: `kill -9` of `popsink-pg run` twenty times
// in a row under the oracle's write load, at moments chosen by what the
// process has done (never by the clock): during the initial load, while a
// large transaction is being streamed to it, and after a random number of
// stored events (between group commits, or in the middle of one). Then the
// stored events and the `--output` file are checked against the oracle.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct KillNineOracleTests {
        @Test(.timeLimit(.minutes(10)))
        func twentyKillsLoseNothingAndRepeatNothing() async throws {
            let harness = try await CaptureHarness(setup: OracleSchema.setup(preloadedRows: 60_000))
            defer { harness.cleanUp() }
            let output = harness.dataDirectory.appendingPathComponent("events.jsonl").path
            // Streams any transaction past 64 kB (the smallest setting) to the pipeline before its commit.
            let source = harness.connectionString + " options='-c logical_decoding_work_mem=64kB'"
            let arguments = [
                "run", source, "--data-dir", harness.dataDirectory.path, "--pipeline", harness.pipelineID,
                "--output", output, "--snapshot-chunk-pages", "32", "--snapshot-rows-per-group", "500",
                "--snapshot-workers", "1", "--receive-timeout", "30",
            ]
            // The only large transactions are the test's own, so a streamed one is the one held open.
            var mix = OracleWorkload.Mix()
            mix.largePercent = 0
            let workload = OracleWorkload(
                postgres: harness.postgres, database: harness.database, writers: 3, mix: mix)
            var moments: [String: Int] = [:]
            for round in 0..<20 {
                let before = harness.storedSequence()
                let process = try PopsinkProcess.start(arguments)
                let moment: String
                if round >= 2 && round % 3 == 0 {
                    // Killed inside, before the held transaction commits.
                    try await killDuringAStreamedTransaction(process, harness: harness, workload: workload)
                    moments["streamed transaction", default: 0] += 1
                    continue
                }
                if round < 2 {
                    // The first runs still load the 60,000 preloaded rows.
                    moment = "initial load"
                    try await waitFor(process, harness) { harness.storedSequence() > before }
                } else {
                    moment = "after stored events"
                    let target = before + Int64.random(in: 1...3_000)
                    try await waitFor(process, harness) { harness.storedSequence() >= target }
                }
                #expect(process.isRunning, "round \(round): popsink-pg exited on its own: \(process.output())")
                process.kill()
                moments[moment, default: 0] += 1
            }
            await workload.stop()
            print("kill -9 moments: \(moments)")

            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 300)
            #expect(final.status == 0, "final run failed: \(final.output)")
            let check = OracleCheck(
                ledger: workload.ledger, postgres: harness.postgres, database: harness.database, resumedLoad: true)
            let stored = try harness.allEvents()
            try check.verify(stored, scenario: "kill -9 x20 (store)")

            // The consumer of `--output` saw exactly the store, across every kill.
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            let fromFile = try lines.map { try Event(line: $0) }
            #expect(
                fromFile.map(\.id) == stored.map(\.id), "output file \(fromFile.count) lines, store \(stored.count)")
            try check.verify(fromFile, scenario: "kill -9 x20 (--output file)")
        }

        @Test func aReceiveTimeoutTooShortToAskForAKeepaliveIsRefused() throws {
            let result = try PopsinkProcess.run(["run", "host=127.0.0.1", "--receive-timeout", "1"])
            #expect(result.status == 64, "\(result.output)")
            #expect(result.output.contains("--receive-timeout must be 2 to 86400 seconds"))
        }

        /// Holds a large transaction open until the walsender has streamed
        /// part of it to the process, kills the process, then commits it.
        func killDuringAStreamedTransaction(
            _ process: PopsinkProcess, harness: CaptureHarness, workload: OracleWorkload
        ) async throws {
            // The process is streaming once it stores anything new.
            let before = harness.storedSequence()
            try await waitFor(process, harness) { harness.storedSequence() > before }
            let streamedBefore = try streamedBytes(harness)
            try await workload.largeTransaction(writer: 90, rows: 3_000) {
                try await waitFor(process, harness) { try streamedBytes(harness) > streamedBefore }
                process.kill()
            }
        }

        func streamedBytes(_ harness: CaptureHarness) throws -> Int64 {
            try harness.execute(
                "SELECT coalesce(sum(stream_bytes), 0) AS bytes FROM pg_stat_replication_slots WHERE slot_name = '\(harness.slotName)'"
            ).value("bytes").flatMap { Int64($0) } ?? 0
        }

        /// Waits (generously) for `condition`, failing early if the process dies.
        func waitFor(
            _ process: PopsinkProcess, _ harness: CaptureHarness, _ condition: () async throws -> Bool
        ) async throws {
            let deadline = Date().addingTimeInterval(180)
            while Date() < deadline {
                if try await condition() { return }
                guard process.isRunning else {
                    throw TestPostgresError("popsink-pg exited before the kill: \(process.output())")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw TestPostgresError("the kill condition was not met within 180 s: \(process.output())")
        }
    }
}
