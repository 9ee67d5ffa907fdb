// One run of the real crash: `popsink-pg run --sink …` under write load,
// killed with SIGKILL six times (messages in flight, positions unsaved), then
// run to the current position. The phase says what the service is doing when
// the kills land: streaming small transactions, receiving and forwarding
// transactions big enough to be streamed before their commit, or loading a
// table added to the publication mid-run beside the stream.

import EventStore
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

@testable import Sinks

/// What the service is doing when it is killed.
enum CrashPhase: String {
    /// Small transactions, forwarded as they commit.
    case stream
    /// Transactions past `logical_decoding_work_mem`, sent by Postgres before
    /// their commit (protocol v2 streaming), staged, then forwarded in bulk.
    case bigTransaction
    /// A table added to the publication mid-run, loaded in pieces beside the stream.
    case backfill
}

/// What a crash run left: the store's events, and how many kills fell in the phase.
struct SinkCrashOutcome {
    let stored: [SinkEvent]
    let kills: Int
    /// Kills while a backfill was pending (backfill), or the transactions Postgres streamed (big transaction).
    let inPhase: Int
    let log: String
}

struct SinkCrashRun {
    static let lateRows = 30_000
    static let bigRows = 2_000
    /// Big transactions at most: librdkafka's mock cluster keeps only about
    /// 5 MB of each partition, and drops the oldest messages past it.
    static let bigTransactions = 8

    static var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("popsink-pg")
    }

    let phase: CrashPhase

    /// Runs the scenario; `sink` gets the pipeline id and the tables' names and returns the `--sink` value.
    func run(sink: (_ pipeline: String, _ tables: [String]) throws -> String) throws -> SinkCrashOutcome {
        let postgres = try TestPostgres.shared()
        let database = try postgres.createDatabase()
        let pipeline = "p\(database)"
        try postgres.execute(
            """
            CREATE TABLE accounts (id int PRIMARY KEY, n int NOT NULL);
            ALTER TABLE accounts REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE accounts;
            CREATE TABLE late (id int PRIMARY KEY, pad text NOT NULL);
            ALTER TABLE late REPLICA IDENTITY FULL;
            INSERT INTO late SELECT g, repeat('l', 20) FROM generate_series(1, \(Self.lateRows)) g;
            """, database: database)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "runsink-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let slot = "popsink_\(pipeline)"
        defer {
            _ = try? postgres.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '\(slot)' AND NOT active",
                database: database)
            try? FileManager.default.removeItem(atPath: directory)
        }
        let storePath = "\(directory)/pipelines/\(pipeline)/events.sqlite"
        let log = directory + "/run.log"
        var source = postgres.connectionString(database: database)
        // Streams any transaction past 64 kB (the smallest setting) to the pipeline before its commit.
        if phase == .bigTransaction { source += " options='-c logical_decoding_work_mem=64kB'" }
        let arguments = [
            "run", source, "--data-dir", directory, "--pipeline", pipeline,
            "--snapshot-chunk-pages", "32", "--snapshot-rows-per-group", "500",
            "--sink", try sink(pipeline, ["accounts", "late"]),
        ]

        let stop = Atomic<Bool>(false)
        let writer = Thread { [phase] in
            guard let connection = try? postgres.connect(database: database) else { return }
            var id = 0
            var big = 0
            while !stop.load(ordering: .relaxed) {
                if phase == .bigTransaction && big < Self.bigTransactions {
                    big += 1
                    let first = id + 1
                    id += Self.bigRows
                    _ = try? connection.query(
                        "BEGIN; INSERT INTO accounts SELECT g, 0 FROM generate_series(\(first), \(id)) g; UPDATE accounts SET n = n + 1 WHERE id BETWEEN \(first) AND \(first + 999); COMMIT"
                    )
                    usleep(800_000)
                } else {
                    id += 1
                    _ = try? connection.query(
                        "BEGIN; INSERT INTO accounts VALUES (\(id), 0); UPDATE accounts SET n = n + 1 WHERE id = \(max(1, id / 2)); COMMIT"
                    )
                    usleep(2000)
                }
            }
        }
        writer.start()
        defer { stop.store(true, ordering: .relaxed) }

        var kills = 0
        var killsWhileLoading = 0
        for round in 0..<6 {
            let process = try Self.start(arguments, log: log)
            if phase == .backfill && round == 0 {
                // Streaming first; then the table joins and is loaded beside the stream.
                try waitFor(process, log: log) { Self.lastSequence(storePath) > 0 }
                try postgres.execute("ALTER PUBLICATION popsink ADD TABLE late", database: database)
                try waitFor(process, log: log) { Self.loadState(storePath) == "pending" }
            }
            if phase == .backfill && Self.loadState(storePath) == "pending" {
                // Killed once more of the table is stored (and being forwarded), while its load is still pending.
                let target = Self.lastSequence(storePath) + Int64.random(in: 500...2_000)
                try waitFor(process, log: log) {
                    Self.lastSequence(storePath) > target || Self.loadState(storePath) != "pending"
                }
            } else {
                Thread.sleep(forTimeInterval: Double.random(in: 0.4...1.5))
            }
            if process.isRunning {
                if Self.loadState(storePath) == "pending" { killsWhileLoading += 1 }
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
        }
        stop.store(true, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 0.2)

        let final = try Self.start(arguments + ["--end-lsn", "current"], log: log)
        let deadline = Date(timeIntervalSinceNow: 180)
        while final.isRunning && Date() < deadline { usleep(50_000) }
        if final.isRunning { kill(final.processIdentifier, SIGKILL) }
        final.waitUntilExit()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(final.terminationStatus == 0, "final run: \(output)")

        var inPhase = killsWhileLoading
        if phase == .bigTransaction {
            let streamed = try postgres.execute(
                "SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = '\(slot)'", database: database)
            inPhase = Int(streamed.value("stream_txns") ?? "") ?? 0
        }
        return SinkCrashOutcome(stored: try Self.storedEvents(storePath), kills: kills, inPhase: inPhase, log: output)
    }

    /// Waits up to 120 s for `condition`, failing at once if the process died.
    private func waitFor(_ process: Process, log: String, _ condition: () -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: 120)
        while Date() < deadline {
            if condition() { return }
            guard process.isRunning else {
                throw TestFailure(
                    "popsink-pg exited early: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            usleep(20_000)
        }
        throw TestFailure("the condition before the kill was not met within 120 s")
    }

    static func lastSequence(_ storePath: String) -> Int64 {
        guard FileManager.default.fileExists(atPath: storePath),
            let reader = try? EventStoreReader(path: storePath)
        else { return 0 }
        defer { reader.close() }
        return (try? reader.lastSequence()) ?? 0
    }

    /// "pending" while a load or a backfill has pieces left.
    static func loadState(_ storePath: String) -> String? {
        guard FileManager.default.fileExists(atPath: storePath),
            let reader = try? EventStoreReader(path: storePath)
        else { return nil }
        defer { reader.close() }
        return try? reader.metadata("initial_load")
    }

    static func storedEvents(_ storePath: String) throws -> [SinkEvent] {
        let reader = try EventStoreReader(path: storePath)
        defer { reader.close() }
        var stored: [SinkEvent] = []
        var after: Int64 = 0
        while true {
            let page = try reader.events(after: after, limit: 5000)
            guard let last = page.last else { return stored }
            stored += try page.map { try SinkEvent($0) }
            after = last.sequence
        }
    }

    static func start(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !FileManager.default.fileExists(atPath: log) {
            FileManager.default.createFile(atPath: log, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}
