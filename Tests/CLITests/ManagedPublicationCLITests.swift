// `check --managed-publication` and `run --managed-publication` with masked
// columns, as a user runs them: the check passes for a role that may create
// the publication, the run creates it with the filtered tables, and the
// output carries hashes and no excluded column.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@Suite struct ManagedPublicationCLITests {
    @Test(.timeLimit(.minutes(3)))
    func checkThenRunWithAManagedPublicationAndMaskedColumns() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE t (id int PRIMARY KEY, email text, ssn text);
                ALTER TABLE t REPLICA IDENTITY FULL;
                CREATE TABLE skipped (id int PRIMARY KEY);
                INSERT INTO t VALUES (1, 'a@example.org', 'ssn-one');
                """)
        defer { harness.cleanUp() }
        let filters = ["--pipeline", harness.pipelineID, "--include-tables", "public.t"]
        let check = try PopsinkProcess.run(
            ["check", harness.connectionString, "--managed-publication", "--json"] + filters)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("will be created"))

        let keyFile = harness.dataDirectory.appendingPathComponent("hash.key")
        try "cli-test-key-0123456789\n".write(to: keyFile, atomically: true, encoding: .utf8)
        let output = harness.dataDirectory.appendingPathComponent("events.jsonl")
        let missingKey = try PopsinkProcess.run(
            ["run", harness.connectionString, "--hash-columns", "email", "--end-lsn", "current"])
        #expect(missingKey.status != 0)
        #expect(missingKey.output.contains("--hash-key-file"))
        let run = try PopsinkProcess.run(
            [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path, "--managed-publication",
                "--exclude-columns", "t.ssn", "--hash-columns", "t.email", "--hash-key-file", keyFile.path,
                "--end-lsn", "current", "--output", output.path,
            ] + filters)
        #expect(run.status == 0, "\(run.output)")
        let published = try harness.execute(
            "SELECT tablename FROM pg_publication_tables WHERE pubname = '\(PipelineConfig.defaultManagedPublication(pipelineID: harness.pipelineID))'"
        )
        #expect(published.rows.compactMap { $0[0] } == ["t"])
        let lines = try String(contentsOf: output, encoding: .utf8)
        #expect(lines.contains(#""op":"r""#))
        #expect(!lines.contains("a@example.org") && !lines.contains("ssn-one"), "\(lines)")
        #expect(lines.contains(#""hashed":["email"]"#), "\(lines)")
    }
}
