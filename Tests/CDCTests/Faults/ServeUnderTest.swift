// A `popsink-pg serve` child process for the fault tests: started on a random
// loopback port with no API token, so `kill -9` hits the real service and a
// restart on the same data directory is the real recovery path.

import Foundation
import PipelineTestSupport
import PostgresTestSupport

final class ServeUnderTest {
    let process: PopsinkProcess
    let api: LoopbackHTTP

    private init(process: PopsinkProcess, port: Int) {
        self.process = process
        api = LoopbackHTTP(port: port)
    }

    /// Starts `serve` on `dataDirectory` and waits until it listens.
    static func start(dataDirectory: String) async throws -> ServeUnderTest {
        let process = try PopsinkProcess.start(
            ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDirectory], environment: ["POPSINK_API_TOKEN": nil])
        var port = 0
        try await waitUntil("serve listens", seconds: 60) {
            guard process.isRunning else { throw TestPostgresError("serve exited: \(process.output())") }
            guard let range = process.output().range(of: "listening on http://127.0.0.1:") else { return false }
            port = Int(process.output()[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port > 0
        }
        return ServeUnderTest(process: process, port: port)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `seconds`.
    func stop(seconds: Double = 60) {
        guard process.isRunning else { return }
        kill(process.process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.kill() }
    }

    /// Creates a source for `database` on the test cluster, as `user`; returns its id.
    func createSource(
        _ postgres: TestPostgres, database: String, user: String = "postgres", extra: String = ""
    ) throws -> String {
        let source = try api.json(
            "POST", "/v1/sources",
            #"{"name":"\#(database)-\#(user)","host":"127.0.0.1","port":\#(postgres.port),"database":"\#(database)","user":"\#(user)","sslmode":"disable"\#(extra)}"#
        )
        guard let id = source["id"] as? String else { throw TestPostgresError("no source id in \(source)") }
        return id
    }

    func status(_ pipeline: String) throws -> [String: Any] {
        try api.json("GET", "/v1/pipelines/\(pipeline)/status")
    }
}
