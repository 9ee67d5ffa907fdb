// A cluster of one test's own, for the fault tests that stop, crash and
// restart the server: the shared cluster serves every other test at once.

import Foundation

extension TestPostgres {
    /// A new cluster (initdb, random port) that only the calling test uses.
    public static func privateCluster(extraSettings: [String] = []) throws -> TestPostgres {
        try TestPostgres(extraSettings: extraSettings)
    }

    public enum StopMode: String, Sendable {
        /// Ends sessions and shuts down cleanly (SIGINT).
        case fast
        /// Quits without a shutdown checkpoint: a crash, recovered at the next start (SIGQUIT).
        case immediate
    }

    /// `pg_ctl stop -m <mode>`, waiting for the server to be gone.
    public func stop(mode: StopMode) throws {
        let (tool, arguments) = Self.asServerUser(
            self.tool("pg_ctl"), ["stop", "-D", dataDirectory.path, "-m", mode.rawValue, "-w", "-t", "300"])
        try Self.run(tool, arguments)
    }

    /// Starts the server again with the command line it last ran with
    /// (`postmaster.opts`), watched like the first start, and waits until it
    /// accepts connections.
    public func start() throws {
        let opts = try String(contentsOf: dataDirectory.appendingPathComponent("postmaster.opts"), encoding: .utf8)
        // `/path/postgres "-D" "/dir" "-c" "name=value" ...`
        let arguments = opts.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map {
            String($0.element)
        }
        try Self.launchWatched(tool("postgres"), arguments, root: root)
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            if (try? execute("SELECT 1")) != nil { return }
            usleep(100_000)
        }
        throw TestPostgresError("Postgres did not accept connections within 300 s of a restart")
    }

    /// Stops the server at once and removes its files.
    public func destroy() {
        try? stop(mode: .immediate)
        try? FileManager.default.removeItem(at: root)
    }
}
