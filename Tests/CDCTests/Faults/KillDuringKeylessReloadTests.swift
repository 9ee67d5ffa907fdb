// kill -9 of `popsink-pg run` while a table without a key is loaded, under
// writers that insert rows equal to existing ones, update and delete one of
// several equal rows; once, between two runs, the table is truncated and
// refilled, so the next reload's backlog holds a truncate its snapshot
// already sees. The table is cut by the
// first kill in the middle of its initial load; every later run reloads it
// whole from a held snapshot (`WatermarkSnapshot`), and is killed again
// while that reload's snapshot is open or its rows are being read. In the
// end a consumer applying the events in order (a truncate empties the table,
// a delete or update removes one equal row) must hold exactly the source's
// rows, with every event id once and transactions in commit order.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresReplication
import PostgresTestSupport
import PostgresWire
import Synchronization
import Testing

extension HeavyTests {
    @Suite struct KillDuringKeylessReloadTests {
        /// 1,000 distinct rows, each 150 times.
        static let setup = """
            CREATE TABLE loose (line text, n int, pad text);
            ALTER TABLE loose REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE loose;
            INSERT INTO loose SELECT 'line ' || (g % 1000), g % 50, repeat('p', 100) FROM generate_series(1, 150000) g;
            ANALYZE loose;
            """

        @Test(.timeLimit(.minutes(10)))
        func killsDuringTheReloadOfATableWithoutAKeyLoseNothing() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path, "--pipeline",
                harness.pipelineID, "--snapshot-workers", "2", "--snapshot-chunk-pages", "64",
                "--snapshot-rows-per-group", "2000", "--receive-timeout", "30",
            ]
            let writers = LooseWriters(postgres: harness.postgres, database: harness.database, writers: 2)

            // First: cut the initial load once part of it is stored.
            let first = try PopsinkProcess.start(arguments)
            try await waitUntil("part of the initial load stored", seconds: 180) {
                guard first.isRunning else { throw TestPostgresError("run exited: \(first.output())") }
                return harness.storedSequence() > 20_000
            }
            first.kill()
            #expect(try loadState(harness) == "pending", "the initial load finished before the kill")

            // Then: kill each run while its reload holds its snapshot or reads its rows.
            var killsDuringAReload = 0
            for round in 0..<4 {
                let process = try PopsinkProcess.start(arguments)
                try await waitUntil("round \(round): a reload holds its snapshot", seconds: 180) {
                    guard process.isRunning else { throw TestPostgresError("run exited: \(process.output())") }
                    return try reloadConnections(harness) > 0 || loadState(harness) == "done"
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...600)))
                let during = try reloadConnections(harness) > 0
                process.kill()
                let pending = try loadState(harness) == "pending"
                if during && pending { killsDuringAReload += 1 }
                guard pending else { break }
                if round == 1 {
                    try harness.execute(
                        "BEGIN; TRUNCATE loose; INSERT INTO loose SELECT 'line ' || (g % 1000), g % 50, repeat('p', 100) FROM generate_series(1, 150000) g; COMMIT"
                    )
                }
            }
            #expect(killsDuringAReload >= 2, "only \(killsDuringAReload) kills landed during a reload")
            await writers.stop()
            #expect(writers.committed > 50, "the writers committed only \(writers.committed) transactions")

            // The last run reloads the table whole; its peak memory is sampled while it runs.
            let last = try PopsinkProcess.start(arguments + ["--end-lsn", "current"])
            var peakKiB = 0
            let deadline = Date().addingTimeInterval(300)
            while last.isRunning && Date() < deadline {
                peakKiB = max(peakKiB, Self.peakResidentKiB(last.process.processIdentifier))
                try await Task.sleep(for: .milliseconds(20))
            }
            if last.isRunning { last.kill() }
            last.process.waitUntilExit()
            #expect(last.process.terminationStatus == 0, "final run failed: \(last.output().suffix(2_000))")
            #expect(try loadState(harness) == "done")

            let events = try harness.events()
            var ids = Set<String>()
            var lastCommit: LSN?
            var streamed = 0
            for event in events {
                #expect(ids.insert(event.id).inserted, "event \(event.id) twice")
                guard event.op != "r", event.source["snapshot"] as? Bool != true,
                    let text = event.source["commit_lsn"] as? String, let lsn = LSN(text)
                else { continue }
                streamed += 1
                if let lastCommit { #expect(lsn >= lastCommit, "event \(event.id) out of commit order") }
                lastCommit = lsn
            }
            let markers = events.filter { $0.op == "t" && $0.source["snapshot"] as? Bool == true }.count
            let rebuilt = Self.rebuild(events)
            let source = try harness.execute("SELECT line, n, pad FROM loose").rows.map {
                "\($0[0] ?? "null")|\($0[1] ?? "null")|\($0[2] ?? "null")"
            }
            print(
                "kill -9 during keyless reloads: \(killsDuringAReload) kills during a reload, \(markers) reload markers, "
                    + "\(writers.committed) writer transactions, \(streamed) streamed changes, "
                    + "\(events.count { $0.op == "r" }) rows loaded; rebuilt \(rebuilt.count) rows, the source has \(source.count); "
                    + "peak RSS of the last run (a whole reload) \(peakKiB / 1024) MiB"
            )
            #expect(markers >= 1, "no reload marker: the table was never reloaded")
            let expected = Dictionary(source.map { ($0, 1) }, uniquingKeysWith: +)
            let actual = Dictionary(rebuilt.map { ($0, 1) }, uniquingKeysWith: +)
            let differing = Set(expected.keys).union(actual.keys).filter { expected[$0] != actual[$0] }
            let equal = differing.isEmpty
            #expect(
                equal,
                "\(differing.count) rows differ, first: \(differing.sorted().prefix(3).map { "\($0): source \(expected[$0] ?? 0), rebuilt \(actual[$0] ?? 0)" })"
            )
        }

        /// VmHWM of a running process, 0 once it is gone.
        static func peakResidentKiB(_ pid: Int32) -> Int {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
            else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
        }

        /// Backends of the pipeline holding a reload's snapshot.
        func reloadConnections(_ harness: CaptureHarness) throws -> Int {
            let rows = try harness.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'popsink-pg reload' AND datname = current_database()"
            ).rows
            return Int(rows.first?[0] ?? "0") ?? 0
        }

        func loadState(_ harness: CaptureHarness) throws -> String? {
            guard FileManager.default.fileExists(atPath: harness.storePath) else { return nil }
            let reader = try EventStoreReader(path: harness.storePath)
            defer { reader.close() }
            return try reader.metadata("initial_load")
        }

        /// The table as a consumer applying the events holds it: a multiset of
        /// whole rows; a delete or update takes away one equal row.
        static func rebuild(_ events: [Event]) -> [String] {
            var rows: [String: Int] = [:]
            func text(_ image: [String: Any]?) -> String {
                let line = image?["line"] as? String ?? "null"
                let n = intValue(image?["n"]).map(String.init) ?? "null"
                return "\(line)|\(n)|\(image?["pad"] as? String ?? "null")"
            }
            func remove(_ row: String) {
                guard let count = rows[row] else { return }
                rows[row] = count == 1 ? nil : count - 1
            }
            for event in events where event.table == "loose" {
                switch event.op {
                case "c", "r": rows[text(event.after), default: 0] += 1
                case "u":
                    remove(text(event.before))
                    rows[text(event.after), default: 0] += 1
                case "d": remove(text(event.before))
                case "t": rows.removeAll()
                default: break
                }
            }
            return rows.flatMap { Array(repeating: $0.key, count: $0.value) }
        }
    }
}

/// Writers on `loose`: inserts of rows equal to existing ones, updates and
/// deletes of one row among equal ones.
final class LooseWriters: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let finished = Atomic<Int>(0)
    private let commits = Atomic<Int>(0)
    let writers: Int

    init(postgres: TestPostgres, database: String, writers: Int) {
        self.writers = writers
        for writer in 0..<writers {
            let thread = Thread { [self] in
                defer { finished.add(1, ordering: .relaxed) }
                var connection: PostgresConnection?
                while !stopFlag.load(ordering: .relaxed) {
                    do {
                        if connection == nil { connection = try postgres.connect(database: database) }
                        try connection!.query(Self.transaction(writer: writer))
                        commits.add(1, ordering: .relaxed)
                    } catch {
                        // A writer runs on while the pipeline is killed; the server stays up.
                        connection = nil
                        usleep(100_000)
                    }
                    usleep(3_000)
                }
            }
            thread.start()
        }
    }

    var committed: Int { commits.load(ordering: .relaxed) }

    func stop() async {
        stopFlag.store(true, ordering: .relaxed)
        while finished.load(ordering: .relaxed) < writers { try? await Task.sleep(for: .milliseconds(20)) }
    }

    static func transaction(writer: Int) -> String {
        func pick() -> String {
            let k = Int.random(in: 0..<1000)
            return "line = 'line \(k)' AND n = \(k % 50)"
        }
        var statements = ["BEGIN"]
        for _ in 0..<Int.random(in: 1...3) {
            switch Int.random(in: 0..<100) {
            case 0..<35:
                let k = Int.random(in: 0..<1000)
                statements.append("INSERT INTO loose VALUES ('line \(k)', \(k % 50), repeat('p', 100))")
            case 35..<65:
                statements.append(
                    "UPDATE loose SET n = n + 1000 WHERE ctid = (SELECT ctid FROM loose WHERE \(pick()) LIMIT 1)")
            case 65..<95:
                statements.append("DELETE FROM loose WHERE ctid = (SELECT ctid FROM loose WHERE \(pick()) LIMIT 1)")
            case 95..<100:
                statements.append(
                    "INSERT INTO loose SELECT line, n, pad FROM loose WHERE \(pick()) LIMIT 3")
            default:
                break
            }
        }
        statements.append(Int.random(in: 0..<12) == 0 ? "ROLLBACK" : "COMMIT")
        return statements.joined(separator: "; ")
    }
}
