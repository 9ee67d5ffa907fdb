// The promise "nothing lost, nothing twice" under concurrent writers and
// repeated `kill -9` of the `popsink-pg run` process.

import CDC
import Foundation
import PipelineTestSupport
import Testing

extension HeavyTests {
    @Suite struct CrashRecoveryTests {
        static let setup = """
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0);
            ALTER TABLE accounts REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE accounts;
            """

        @Test(.timeLimit(.minutes(3)))
        func concurrentWritersAreCapturedExactly() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            try harness.capture()
            let pipeline = Pipeline(config: try harness.config(endPosition: nil))
            await pipeline.start()
            let load = WriteLoad(
                postgres: harness.postgres, database: harness.database, writers: 8, transactionsEach: 60)
            await load.waitUntilFinished()
            #expect(await pipeline.stop() == .stopped)
            try harness.capture()
            let events = try harness.events()
            #expect(events.count > 8 * 60)
            try verifyAccounts(events, harness: harness)
        }

        @Test(.timeLimit(.minutes(5)))
        func survivesKillNineUnderWriteLoad() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let output = harness.dataDirectory.appendingPathComponent("events.jsonl").path
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--output", output,
            ]
            let first = try PopsinkProcess.run(arguments + ["--end-lsn", "current"])
            #expect(first.status == 0, "first run failed: \(first.output)")

            let load = WriteLoad(postgres: harness.postgres, database: harness.database, writers: 3)
            var kills = 0
            for _ in 0..<6 {
                let process = try PopsinkProcess.start(arguments)
                try await Task.sleep(for: .milliseconds(Int.random(in: 300...1500)))
                if process.isRunning {
                    process.kill()
                    kills += 1
                } else {
                    Issue.record("popsink-pg exited early: \(process.output())")
                }
            }
            await load.stop()
            #expect(kills >= 5)

            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 120)
            #expect(final.status == 0, "final run failed: \(final.output)")
            let events = try harness.events()
            #expect(events.count > 100)
            try verifyAccounts(events, harness: harness)

            // The output file followed the store exactly, across every kill.
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            let ids = lines.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
            }
            #expect(ids.count == lines.count)
            let stored = try harness.allEvents()
            #expect(ids == stored.map(\.id), "output file: \(ids.count) lines, store: \(stored.count) events")
        }
    }
}
