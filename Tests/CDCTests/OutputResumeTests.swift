// `run --output` after a crash: the file must be exactly the store, in order.
// The bad moment is reproduced deterministically: a run stores its first
// group and dies before writing the file's first line, which leaves the store
// with events and the output file created but empty.

import CDC
import Foundation
import PipelineTestSupport
import Testing

extension HeavyTests {
    @Suite struct OutputResumeTests {
        static let setup = """
            CREATE TABLE t (id int PRIMARY KEY, v text);
            ALTER TABLE t REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE t;
            INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) g;
            """

        func ids(inLines text: String) -> [String] {
            text.split(separator: "\n").filter { $0.hasPrefix(#"{"id":"#) }.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
            }
        }

        @Test(.timeLimit(.minutes(3)))
        func anEmptyOutputFileAfterACrashGetsTheWholeStore() throws {
            let harness = try CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let output = harness.dataDirectory.appendingPathComponent("events.jsonl").path
            // The state a kill -9 leaves between the first group commit and the first line.
            #expect(FileManager.default.createFile(atPath: output, contents: nil))
            try harness.capture()
            // The output is the store: its `s` event included.
            let stored = try harness.allEvents().map(\.id)
            #expect(stored.count == 51)

            try harness.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(51, 60) g")
            let run = try PopsinkProcess.run([
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--output", output, "--end-lsn", "current",
            ])
            #expect(run.status == 0, "run failed: \(run.output)")
            let all = try harness.allEvents().map(\.id)
            #expect(all.count == 61)
            let written = ids(inLines: try String(contentsOfFile: output, encoding: .utf8))
            #expect(written == all, "output file: \(written.count) lines, store: \(all.count) events")
        }

        @Test(.timeLimit(.minutes(3)))
        func standardOutputStartsWhereTheUserSays() throws {
            let harness = try CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            try harness.capture()
            let stored = try harness.allEvents().map(\.id)
            let common = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--output", "-", "--end-lsn", "current",
            ]
            let fromStart = try PopsinkProcess.run(common + ["--from-seq", "1"])
            #expect(fromStart.status == 0, "run failed: \(fromStart.output)")
            #expect(ids(inLines: fromStart.output) == stored)
            let fromMiddle = try PopsinkProcess.run(common + ["--from-seq", "41"])
            #expect(ids(inLines: fromMiddle.output) == Array(stored[40...]))
            // Without it, only what this run stores (nothing new here).
            let newOnly = try PopsinkProcess.run(common)
            #expect(newOnly.status == 0)
            #expect(ids(inLines: newOnly.output).isEmpty)

            // `events` refuses a cursor the store cannot serve instead of printing nothing.
            let beyond = try PopsinkProcess.run([
                "events", "--data-dir", harness.dataDirectory.path, "--pipeline", harness.pipelineID, "--after", "999",
            ])
            #expect(beyond.status != 0)
            #expect(beyond.output.contains("beyond the store's last sequence 51"), "\(beyond.output)")
            let otherStore = try PopsinkProcess.run([
                "events", "--data-dir", harness.dataDirectory.path, "--pipeline", harness.pipelineID, "--after", "3",
                "--store", "0123456789abcdef0123456789abcdef",
            ])
            #expect(otherStore.status != 0)
            #expect(
                otherStore.output.contains("belongs to store 0123456789abcdef0123456789abcdef"), "\(otherStore.output)")

            let misuse = try PopsinkProcess.run([
                "run", harness.connectionString, "--output", harness.dataDirectory.appendingPathComponent("x").path,
                "--from-seq", "3",
            ])
            #expect(misuse.status != 0)
            #expect(misuse.output.contains("--from-seq is for --output -"))
        }
    }
}
