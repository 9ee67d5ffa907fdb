// A throwaway Postgres cluster for the tests of one test process.
//
// Started on first use: initdb into a temporary directory, a random free port
// on 127.0.0.1, wal_level=logical. Postgres refuses to run as root, so as root
// it runs as the `postgres` OS user. A watchdog shell stops the server when the
// test process goes away, even after a crash; a normal exit stops it by process
// id at once (atexit). Each test makes its own database and slot, so tests run
// in parallel against one cluster.

import Blocking
import Foundation
import PostgresReplication

/// The test process's Postgres server.
public final class TestPostgres: Sendable {
    public let port: Int
    public let host = "127.0.0.1"
    public let root: URL
    public let dataDirectory: URL
    public let binDirectory: URL
    /// The postmaster's process id.
    public let pid: Int32
    public let superuser = "postgres"
    /// Roles in this group must authenticate with a password (scram-sha-256).
    public static let passwordGroup = "password_auth"

    /// The shared server, started on first use. A missing Postgres fails the
    /// calling test with a message saying what to install.
    public static func shared() throws -> TestPostgres {
        try sharedServer.get()
    }

    /// The shared server from async code: the first call's initdb and start (tens of
    /// seconds when the whole suite starts at once) wait off the cooperative pool.
    public static func shared() async throws -> TestPostgres {
        try await Blocking.run { try sharedServer.get() }
    }

    private static let sharedServer: Result<TestPostgres, any Error> = Result { try TestPostgres() }

    /// - Parameters:
    ///   - hba: pg_hba.conf; the default's trust and password lines when nil.
    ///   - extraSettings: more `-c` settings for the server (e.g. `ssl=on`).
    ///   - prepare: called with the data directory before the server starts (to copy keys in).
    init(hba customHBA: String? = nil, extraSettings: [String] = [], prepare: (URL) throws -> Void = { _ in }) throws {
        let binDirectory = try Self.findBinaries()
        self.binDirectory = binDirectory
        root = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("popsink-test-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        dataDirectory = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let asUser = getuid() == 0 ? "postgres" : nil
        if let asUser { try Self.run("/bin/chown", [asUser, root.path]) }
        func command(_ tool: String, _ arguments: [String]) -> (String, [String]) {
            Self.asServerUser(binDirectory.appendingPathComponent(tool).path, arguments)
        }

        let (initdb, initArguments) = command(
            "initdb",
            ["-D", dataDirectory.path, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--locale=C"])
        try Self.run(initdb, initArguments)

        // Trust for everyone except members of `password_auth`, so tests can
        // exercise real password authentication with roles they put there.
        let hba = """
            host all +\(Self.passwordGroup) 127.0.0.1/32 scram-sha-256
            host replication +\(Self.passwordGroup) 127.0.0.1/32 scram-sha-256
            host all all 127.0.0.1/32 trust
            host replication all 127.0.0.1/32 trust
            local all all trust
            local replication all trust

            """
        try (customHBA ?? hba).write(
            to: dataDirectory.appendingPathComponent("pg_hba.conf"), atomically: false, encoding: .utf8)
        try prepare(dataDirectory)
        if let asUser { try Self.run("/bin/chown", ["-R", asUser, dataDirectory.path]) }

        port = try Self.freePort()
        let settings =
            [
                "listen_addresses=127.0.0.1", "port=\(port)", "unix_socket_directories=\(root.path)",
                "wal_level=logical", "max_wal_senders=60", "max_replication_slots=60", "max_connections=300",
                "fsync=off", "full_page_writes=off", "shared_buffers=128MB", "wal_sender_timeout=60s",
                "log_min_messages=warning", "logging_collector=off",
            ] + extraSettings
        try Self.launchWatched(
            binDirectory.appendingPathComponent("postgres").path,
            ["-D", dataDirectory.path] + settings.flatMap { ["-c", $0] }, root: root)

        pid = try Self.waitForPostmaster(dataDirectory, root: root, status: "ready")
        Self.registerStop(pid: pid, root: root.path)
        try execute("CREATE ROLE \(Self.passwordGroup) NOLOGIN")
    }

    /// A streaming standby of `primary` (`pg_basebackup -R`): a copy of its
    /// data directory without its replication slots, run with its settings
    /// on a port of its own, following it until promoted.
    init(standbyOf primary: TestPostgres) throws {
        binDirectory = primary.binDirectory
        root = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("popsink-test-pg-\(getpid())-standby-\(UInt32.random(in: 0...UInt32.max))")
        dataDirectory = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres", root.path]) }
        let (basebackup, backupArguments) = Self.asServerUser(
            binDirectory.appendingPathComponent("pg_basebackup").path,
            [
                "-h", primary.host, "-p", String(primary.port), "-U", primary.superuser, "-D", dataDirectory.path,
                "-R", "-X", "stream", "-c", "fast", "--no-sync",
            ])
        try Self.run(basebackup, backupArguments)
        port = try Self.freePort()
        // The primary's command line (`postmaster.opts`: `/path/postgres "-D" "/dir" "-c" "name=value" ...`),
        // a standby needing settings at least as large as its primary's.
        let opts = try String(
            contentsOf: primary.dataDirectory.appendingPathComponent("postmaster.opts"), encoding: .utf8)
        var arguments = opts.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map {
            String($0.element)
        }
        for index in arguments.indices {
            if arguments[index] == primary.dataDirectory.path { arguments[index] = dataDirectory.path }
            if arguments[index].hasPrefix("port=") { arguments[index] = "port=\(port)" }
            if arguments[index].hasPrefix("unix_socket_directories=") {
                arguments[index] = "unix_socket_directories=\(root.path)"
            }
        }
        try Self.launchWatched(binDirectory.appendingPathComponent("postgres").path, arguments, root: root)
        pid = try Self.waitForPostmaster(dataDirectory, root: root, status: "standby")
        Self.registerStop(pid: pid, root: root.path)
    }

    /// The postmaster's process id once its pid file shows `status`
    /// (`ready`, or `standby` for a standby accepting read-only connections).
    private static func waitForPostmaster(_ dataDirectory: URL, root: URL, status: String) throws -> Int32 {
        for _ in 0..<300 {
            if let text = try? String(
                contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8),
                text.split(separator: "\n").count >= 8, text.contains(status),
                let first = text.split(separator: "\n").first, let number = Int32(first)
            {
                return number
            }
            usleep(100_000)
        }
        let log = (try? String(contentsOf: root.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        throw TestPostgresError("Postgres did not become \(status) within 30 s. Server log:\n\(log)")
    }

    /// Starts `postgres` with `arguments`, logging to the cluster's
    /// `server.log`, under a watchdog shell that stops the server once this
    /// test process is gone, so a crashed test run leaves no server behind.
    static func launchWatched(_ postgres: String, _ arguments: [String], root: URL) throws {
        let (executable, serverArguments) = asServerUser(postgres, arguments)
        let script = """
            "$0" "$@" >>'\(root.path)/server.log' 2>&1 &
            server=$!
            alive() { [ -d /proc/$1 ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }
            while alive \(getpid()) && kill -0 $server 2>/dev/null; do sleep 1; done
            # A server stopped by the tests is theirs to restart: the pid file may
            # already name its successor.
            kill -0 $server 2>/dev/null || exit 0
            # The postmaster itself (as root $server is runuser, which passes no signal on);
            # a fast shutdown waits for walsenders, so it escalates.
            target=$(head -1 '\(root.path)/data/postmaster.pid' 2>/dev/null || echo $server)
            for signal in INT QUIT KILL; do
                kill -$signal $target 2>/dev/null || break
                for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $target 2>/dev/null || break 2; sleep 1; done
            done
            """
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", script, executable] + serverArguments
        watchdog.standardInput = FileHandle.nullDevice
        try watchdog.run()
    }

    /// The command line that runs `path` as the `postgres` OS user when we
    /// are root (Postgres refuses to run as root).
    static func asServerUser(_ path: String, _ arguments: [String]) -> (String, [String]) {
        getuid() == 0 ? ("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments) : (path, arguments)
    }

    /// A libpq keyword string for `database` as the superuser.
    public func connectionString(database: String = "postgres", user: String? = nil) -> String {
        "host=\(host) port=\(port) user=\(user ?? superuser) dbname=\(database)"
    }

    public func settings(database: String = "postgres") throws -> ConnectionSettings {
        try ConnectionSettings(parsing: connectionString(database: database))
    }

    public func connect(database: String = "postgres") throws -> PostgresConnection {
        try PostgresConnection(settings: settings(database: database), mode: .sql)
    }

    /// Runs SQL (one or more statements) in `database`.
    @discardableResult
    public func execute(_ sql: String, database: String = "postgres") throws -> QueryResult {
        try connect(database: database).query(sql)
    }

    /// Creates a database with a fresh name, for one test.
    public func createDatabase(prefix: String = "t") throws -> String {
        let name = "\(prefix)_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        try execute("CREATE DATABASE \(name)")
        return name
    }

    /// The path of a server binary such as `pgbench`.
    public func tool(_ name: String) -> String { binDirectory.appendingPathComponent(name).path }

    // MARK: - Helpers

    private static func findBinaries() throws -> URL {
        var candidates = [
            "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin",
            "/usr/lib/postgresql/14/bin",
        ]
        if let configured = ProcessInfo.processInfo.environment["POPSINK_TEST_PG_BIN"] {
            candidates.insert(configured, at: 0)
        }
        for directory in candidates where FileManager.default.isExecutableFile(atPath: directory + "/postgres") {
            return URL(fileURLWithPath: directory)
        }
        throw TestPostgresError(
            "No Postgres server binaries found in \(candidates). Install them (apt-get install postgresql) "
                + "or set POPSINK_TEST_PG_BIN to the directory holding `postgres` and `initdb`.")
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestPostgresError("socket() failed: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestPostgresError("could not find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestPostgresError(
                "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): "
                    + String(decoding: data, as: UTF8.self))
        }
    }

    private static func registerStop(pid: Int32, root: String) {
        let first = stopOnExit.withLock { servers in
            servers.append((pid, root))
            return servers.count == 1
        }
        guard first else { return }
        atexit {
            for (pid, root) in stopOnExit.withLock({ $0 }) {
                // A fast shutdown ends sessions but waits for walsenders to
                // send what is left: after 5 s, quit at once, then kill.
                for signal in [SIGINT, SIGQUIT, SIGKILL] where kill(pid, 0) == 0 {
                    kill(pid, signal)
                    for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
                }
                try? FileManager.default.removeItem(atPath: root)
            }
        }
    }
}

private let stopOnExit = LockedValue<[(Int32, String)]>([])

public struct TestPostgresError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
