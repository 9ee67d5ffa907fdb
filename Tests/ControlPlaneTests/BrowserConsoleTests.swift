// The console of Public/ driven in a real headless Chromium against a live
// service and the throwaway Postgres: Tests/Browser/console_test.py does the
// clicking (Selenium), this suite gives it a server with a token and a
// database, and fails with the script's own output when it fails. A machine
// without chromium, chromium-driver or python3-selenium fails here with what
// to install; it does not skip.

import Foundation
import PostgresTestSupport
import Testing

@Suite struct BrowserConsoleTests {
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(.timeLimit(.minutes(8)))
    func consoleWorksInAHeadlessBrowserWideAndNarrow() async throws {
        let python = try #require(
            ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "python3 is needed for the browser tests: apt-get install python3 python3-selenium chromium chromium-driver"
        )
        for tool in ["chromium", "chromedriver"] {
            try #require(
                Self.onPath(tool) != nil,
                "\(tool) is not installed: apt-get install chromium chromium-driver python3-selenium (.ci/run does)")
        }

        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase(prefix: "console")
        // customers keeps the default replica identity, so the check has a failure and its remediation to show.
        try postgres.execute(
            """
            CREATE TABLE orders (id int PRIMARY KEY, note text);
            ALTER TABLE orders REPLICA IDENTITY FULL;
            CREATE TABLE customers (id int PRIMARY KEY, name text);
            CREATE SCHEMA audit;
            CREATE TABLE audit.log (id bigserial PRIMARY KEY, line text);
            INSERT INTO orders SELECT g, 'seed ' || g FROM generate_series(1, 50) g;
            ANALYZE;
            CREATE PUBLICATION popsink FOR TABLE orders, customers;
            """, database: database)
        let token = "console-\(UUID().uuidString)"
        let service = try APIFlowTests.Service(token: token)
        // Without a token the API guards itself against other sites; the page must pass those guards.
        let open = try APIFlowTests.Service()

        let script = Self.repository.appendingPathComponent("Tests/Browser/console_test.py").path
        let screenshots = Self.repository.appendingPathComponent("docs/screenshots").path
        let arguments = [
            script, "--url", service.base, "--token", token, "--url-without-token", open.base,
            "--psql", postgres.tool("psql"),
            "--pg-host", postgres.host, "--pg-port", String(postgres.port), "--pg-user", postgres.superuser,
            "--database", database, "--screenshots", screenshots,
        ]
        let result: (status: Int32, output: String)
        do {
            result = try await Self.run(python, arguments)
        } catch {
            await service.stop()
            await open.stop()
            throw error
        }
        await service.stop()
        await open.stop()
        #expect(result.status == 0, "console_test.py exited with \(result.status):\n\(result.output)")
    }

    static func onPath(_ tool: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a process to its end without blocking a cooperative thread; its output goes to a file,
    /// not a pipe that could fill.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("console-test-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = repository
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try handle.close()
        return (status, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
