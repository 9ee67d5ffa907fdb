// `run` with the redact, truncate, keep and new-columns flags, as a user runs
// it: a malformed --truncate-columns is refused before anything starts, and
// the output carries the placeholder and the cut values, never the originals.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@Suite struct ColumnMaskCLITests {
    @Test(.timeLimit(.minutes(3)))
    func runRedactsAndTruncates() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE t (id int PRIMARY KEY, ssn text, note text, nick text);
                ALTER TABLE t REPLICA IDENTITY FULL;
                INSERT INTO t VALUES (1, 'ssn-secret-one', 'ñote-secret-two', 'nick');
                CREATE PUBLICATION popsink FOR TABLE t;
                """)
        defer { harness.cleanUp() }
        for bad in ["t.note", "t.note=0", "=3"] {
            let refused = try PopsinkProcess.run(
                ["run", harness.connectionString, "--truncate-columns", bad, "--end-lsn", "current"])
            #expect(refused.status != 0)
            #expect(refused.output.contains("--truncate-columns takes glob=N"), "\(refused.output)")
        }
        let output = harness.dataDirectory.appendingPathComponent("events.jsonl")
        let run = try PopsinkProcess.run([
            "run", harness.connectionString, "--data-dir", harness.dataDirectory.path, "--pipeline",
            harness.pipelineID, "--redact-columns", "t.ssn", "--truncate-columns", "t.note=5", "--keep-columns",
            "t.nick", "--new-columns", "exclude", "--end-lsn", "current", "--output", output.path,
        ])
        #expect(run.status == 0, "\(run.output)")
        let lines = try String(contentsOf: output, encoding: .utf8)
        #expect(lines.contains(#""ssn":"[redacted]""#), "\(lines)")
        #expect(lines.contains(#""note":"ñote-""#), "\(lines)")
        #expect(lines.contains(#""nick":"nick""#), "\(lines)")
        #expect(lines.contains(#""new_columns":"exclude""#), "\(lines)")
        #expect(!lines.contains("secret"), "\(lines)")
    }
}
