// The command line as a user meets it: passwords kept off the command line
// and out of every message, `events`, `check`, and clear errors.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@Suite struct CLITests {
    static let setup = """
        CREATE TABLE t (id int PRIMARY KEY, v text);
        ALTER TABLE t REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE t;
        """

    @Test func passwordComesFromTheEnvironmentOrAFileAndIsNeverPrinted() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        let role = "pw\(harness.database)"
        let secret = "s3cret-\(UUID().uuidString)"
        try harness.execute(
            """
            CREATE ROLE \(role) LOGIN REPLICATION PASSWORD '\(secret)' IN ROLE \(TestPostgres.passwordGroup);
            GRANT SELECT ON t TO \(role);
            """)
        let source = harness.postgres.connectionString(database: harness.database, user: role)
        let common = [
            "--data-dir", harness.dataDirectory.path, "--pipeline", harness.pipelineID, "--end-lsn", "current",
        ]

        // No password: a clear, final authentication error, no retry loop.
        let refused = try PopsinkProcess.run(["run", source] + common, environment: ["PGPASSWORD": nil], timeout: 30)
        #expect(refused.status == 1)
        #expect(refused.output.contains("password"), "\(refused.output)")

        // A password in the source is refused before anything connects.
        let inline = try PopsinkProcess.run(
            ["run", "postgresql://\(role):\(secret)@127.0.0.1:\(harness.postgres.port)/\(harness.database)"] + common)
        #expect(inline.status != 0)
        #expect(inline.output.contains("PGPASSWORD"))

        // PGPASSWORD works; so does --password-file.
        let viaEnvironment = try PopsinkProcess.run(["run", source] + common, environment: ["PGPASSWORD": secret])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.output)")
        try harness.execute("INSERT INTO t VALUES (1, 'x')")
        let file = harness.dataDirectory.appendingPathComponent("password")
        try "\(secret)\n".write(to: file, atomically: true, encoding: .utf8)
        let viaFile = try PopsinkProcess.run(
            ["run", source, "--password-file", file.path, "--output", "-"] + common, environment: ["PGPASSWORD": nil])
        #expect(viaFile.status == 0, "\(viaFile.output)")
        #expect(viaFile.output.contains(#""after":{"id":1,"v":"x"}"#))

        // A wrong password fails without echoing any password.
        try "wrong-\(secret)\n".write(to: file, atomically: true, encoding: .utf8)
        let wrong = try PopsinkProcess.run(
            ["run", source, "--password-file", file.path] + common, environment: ["PGPASSWORD": nil], timeout: 30)
        #expect(wrong.status == 1)
        for run in [refused, inline, viaEnvironment, viaFile, wrong] {
            #expect(!run.output.contains(secret), "the password was printed: \(run.output)")
        }
    }

    @Test func eventsPrintsTheStoreFromACursor() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5) g")
        try harness.capture()
        let all = try PopsinkProcess.run([
            "events", "--data-dir", harness.dataDirectory.path, "--pipeline", harness.pipelineID,
        ])
        #expect(all.status == 0)
        let lines = all.output.split(separator: "\n")
        // The snapshot's `s` event for t, then the five inserts.
        #expect(lines.count == 6)
        let stored = try harness.allEvents()
        #expect(lines.compactMap { JSONLinesID(String($0)) } == stored.map(\.id))
        let after = try PopsinkProcess.run(
            ["events", "--data-dir", harness.dataDirectory.path, "--pipeline", harness.pipelineID, "--after", "3"])
        let ids = after.output.split(separator: "\n").compactMap { JSONLinesID(String($0)) }
        #expect(ids == stored.suffix(3).map(\.id))

        let missing = try PopsinkProcess.run(["events", "--data-dir", harness.dataDirectory.path, "--pipeline", "nope"])
        #expect(missing.status != 0)
        #expect(missing.output.contains("No event store"))
    }

    /// Without a terminal, `run` reports the snapshot in plain lines
    /// and says when it is done; the options are checked.
    @Test func runReportsTheSnapshotsProgress() throws {
        let harness = try CaptureHarness(
            setup: Self.setup + "INSERT INTO t SELECT g, 'v' FROM generate_series(1, 2500) g;")
        defer { harness.cleanUp() }
        let common = [
            "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
            "--pipeline", harness.pipelineID, "--end-lsn", "current",
        ]
        // The bounds of the API's `snapshot` object (SnapshotSettings).
        for (option, value) in [
            ("--snapshot-workers", "0"), ("--snapshot-workers", "65"), ("--snapshot-chunk-pages", "0"),
            ("--snapshot-rows-per-group", "0"),
        ] {
            let bad = try PopsinkProcess.run(common + [option, value])
            #expect(bad.status != 0, "\(option) \(value)")
            #expect(bad.output.contains("\(option) must be between 1 and "), "\(option) \(value): \(bad.output)")
        }

        let run = try PopsinkProcess.run(common + ["--snapshot-workers", "2", "--snapshot-chunk-pages", "2"])
        #expect(run.status == 0, "\(run.output)")
        let done = run.output.split(separator: "\n").first { $0.hasPrefix("snapshot done:") }
        #expect(done.map { $0.hasPrefix("snapshot done: 2500 rows of 1 table in ") } == true, "\(run.output)")
        // A later run has nothing to load and says nothing about it.
        let again = try PopsinkProcess.run(common)
        #expect(again.status == 0)
        #expect(!again.output.contains("snapshot"), "\(again.output)")
    }

    @Test func checkExitsNonZeroAndPrintsTheFix() throws {
        let harness = try CaptureHarness(setup: "CREATE TABLE t (id int PRIMARY KEY)")
        defer { harness.cleanUp() }
        let failing = try PopsinkProcess.run(["check", harness.connectionString])
        #expect(failing.status == 1)
        #expect(failing.output.contains("CREATE PUBLICATION"))
        try harness.execute("ALTER TABLE t REPLICA IDENTITY FULL; CREATE PUBLICATION popsink FOR TABLE t;")
        let passing = try PopsinkProcess.run(["check", harness.connectionString, "--json"])
        #expect(passing.status == 0, "\(passing.output)")
        let report = try JSONSerialization.jsonObject(with: Data(passing.output.utf8)) as? [String: Any]
        #expect(report?["passed"] as? Bool == true)
    }

    /// A stop request while `serve` is still starting (its state store is
    /// being opened) is kept and honoured: a clean exit, not death by the
    /// signal, nor (as PID 1 of a container) a signal ignored until SIGKILL.
    @Test func serveStopsCleanlyWhenSignalledDuringStartup() throws {
        let directory = NSTemporaryDirectory() + "popsink-serve-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serve = try PopsinkProcess.start(
            ["serve", "--listen", "127.0.0.1:0", "--data-dir", directory], environment: ["POPSINK_API_TOKEN": nil])
        let statePath = directory + "/state.sqlite"
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: statePath) && serve.isRunning && Date() < deadline {
            usleep(500)
        }
        kill(serve.process.processIdentifier, SIGTERM)
        let stopBy = Date().addingTimeInterval(60)
        while serve.isRunning && Date() < stopBy { usleep(20_000) }
        #expect(!serve.isRunning, "serve ignored SIGTERM during startup")
        if serve.isRunning { serve.kill() }
        #expect(serve.process.terminationReason == .exit, "\(serve.output())")
        #expect(serve.process.terminationStatus == 0, "\(serve.output())")
    }

    @Test func badArgumentsAreExplained() throws {
        let slot = try PopsinkProcess.run(["run", "host=127.0.0.1", "--slot", "Bad-Slot"])
        #expect(slot.status != 0 && slot.output.contains("--slot"))
        let lsn = try PopsinkProcess.run(["run", "host=127.0.0.1", "--end-lsn", "nonsense"])
        #expect(lsn.status != 0 && lsn.output.contains("--end-lsn"))
        // A non-loopback address without a token is refused before anything listens.
        let exposed = try PopsinkProcess.run(
            ["serve", "--listen", "0.0.0.0:0", "--data-dir", NSTemporaryDirectory() + "unused-\(UUID().uuidString)"],
            environment: ["POPSINK_API_TOKEN": nil])
        #expect(exposed.status != 0 && exposed.output.contains("POPSINK_API_TOKEN"), "\(exposed.output)")
        let version = try PopsinkProcess.run(["version"])
        #expect(version.status == 0 && version.output.hasPrefix("popsink-pg "))
    }
}

private func JSONLinesID(_ line: String) -> String? {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
}
