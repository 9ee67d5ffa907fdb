// Tables that start or stop matching while a pipeline runs, against the
// throwaway Postgres with writers busy: a table added to the publication (or
// created under FOR TABLES IN SCHEMA) is announced with an `s` event marked
// `capture: started` and its existing rows arrive as `r` events while the
// stream goes on, so a consumer applying the events ends with the table; a
// table that stops matching gets an `s` event marked `capture: stopped` and
// nothing after it. A backfill killed with -9 resumes without reading its
// finished chunks again.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import Synchronization
import Testing

/// What a consumer applying the stream holds, with the checks the watermark
/// design promises: event ids unique; per key, versions never go back and
/// nothing follows a delete; the copy equals the table.
struct TableCopy {
    let table: String
    private(set) var rows: [Int: [String: Any]] = [:]
    private var versions: [Int: Int] = [:]
    private var deleted = Set<Int>()
    private(set) var broken: [String] = []
    private(set) var starts = 0
    private(set) var stops = 0
    private(set) var reads = 0

    init(table: String) { self.table = table }

    mutating func apply(_ event: Event) {
        guard event.table == table else { return }
        switch event.op {
        case "s":
            // A table that starts to be captured starts over: its rows follow as `r` events.
            if event.json["capture"] as? String == "started" {
                starts += 1
                rows = [:]
                deleted = []
            }
            if event.json["capture"] as? String == "stopped" { stops += 1 }
        case "c", "r", "u":
            if event.op == "r" { reads += 1 }
            guard let after = event.after, let id = intValue(after["id"]) else { return }
            if deleted.contains(id) { broken.append("\(event.id) \(event.op) of \(id) after its delete") }
            if let version = intValue(after["version"]) {
                if let previous = versions[id], version < previous {
                    broken.append("\(event.id) \(event.op) of \(id) at version \(version) after \(previous)")
                }
                versions[id] = version
            }
            rows[id] = after
        case "d":
            guard let id = intValue(event.before?["id"]) else { return }
            rows[id] = nil
            deleted.insert(id)
        case "t":
            rows = [:]
        default:
            break
        }
    }

    /// Records an issue for each way the copy differs from `query`'s rows (`id`, then the compared columns).
    func expectEquals(
        _ harness: CaptureHarness, _ query: String, columns: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let source = try harness.execute(query).rows
        var expected: [Int: [String]] = [:]
        for row in source { expected[Int(row[0]!)!] = row.dropFirst().map { $0 ?? "null" } }
        let copy = rows.mapValues { row in columns.map { intValue(row[$0]).map(String.init) ?? "\(row[$0] ?? "null")" }
        }
        #expect(
            copy.count == expected.count, "\(table): the copy has \(copy.count) rows, the table \(expected.count)",
            sourceLocation: sourceLocation)
        let differing = expected.keys.filter { copy[$0] != expected[$0] }.sorted()
        #expect(differing.isEmpty, "\(table): rows differ: \(differing.prefix(10))", sourceLocation: sourceLocation)
        let extra = copy.keys.filter { expected[$0] == nil }.sorted()
        #expect(
            extra.isEmpty, "\(table): rows the table does not have: \(extra.prefix(10))", sourceLocation: sourceLocation
        )
        #expect(broken.isEmpty, "\(table): \(broken.prefix(5))", sourceLocation: sourceLocation)
    }
}

extension HeavyTests {
    @Suite struct TableSetLiveTests {
        static let existing = 100_000_001...100_030_000
        static let setup = """
            CREATE TABLE seed (id int PRIMARY KEY);
            ALTER TABLE seed REPLICA IDENTITY FULL;
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0);
            ALTER TABLE accounts REPLICA IDENTITY FULL;
            INSERT INTO accounts (id, balance) SELECT g, g % 1000 FROM generate_series(\(existing.lowerBound), \(existing.upperBound)) g;
            CREATE PUBLICATION popsink FOR TABLE seed;
            INSERT INTO seed VALUES (1);
            """

        /// All events, `s` included, with the copy of each table applied.
        static func copies(_ harness: CaptureHarness, tables: [String]) throws -> (
            copies: [String: TableCopy], ids: [String]
        ) {
            var copies = Dictionary(uniqueKeysWithValues: tables.map { ($0, TableCopy(table: $0)) })
            var ids: [String] = []
            for event in try harness.allEvents() {
                ids.append(event.id)
                copies[event.table]?.apply(event)
            }
            return (copies, ids)
        }

        @Test(.timeLimit(.minutes(6)))
        func aTableAddedToThePublicationIsBackfilledWhileWritersRun() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            var config = try harness.config()
            config.snapshot = SnapshotOptions(workers: 1, chunkPages: 16, rowsPerGroup: 2000)
            #expect(PipelineWorker(config: config).run() == .reachedEnd)

            let load = WriteLoad(
                postgres: harness.postgres, database: harness.database, writers: 2, transactionsEach: 1500,
                existing: Self.existing)
            try await Task.sleep(for: .milliseconds(300))
            try harness.execute("ALTER PUBLICATION popsink ADD TABLE accounts")
            // Bounded runs while the writers go on: the first finds the table and backfills it.
            #expect(PipelineWorker(config: config).run() == .reachedEnd)
            #expect(PipelineWorker(config: config).run() == .reachedEnd)
            await load.waitUntilFinished()
            #expect(PipelineWorker(config: config).run() == .reachedEnd)

            var (copies, ids) = try Self.copies(harness, tables: ["accounts", "seed"])
            #expect(Set(ids).count == ids.count, "event ids repeat")
            let accounts = copies["accounts"]!
            #expect(accounts.starts == 1, "one s event with capture started for accounts, saw \(accounts.starts)")
            #expect(accounts.reads > 0, "no r event for accounts")
            try accounts.expectEquals(
                harness, "SELECT id, balance, version FROM accounts", columns: ["balance", "version"])

            // Removed from the publication: an `s` event, then nothing of it.
            try harness.execute("ALTER PUBLICATION popsink DROP TABLE seed")
            #expect(PipelineWorker(config: config).run() == .reachedEnd)
            try harness.execute(
                "INSERT INTO seed VALUES (2); UPDATE accounts SET balance = -1 WHERE id = \(Self.existing.lowerBound)")
            #expect(PipelineWorker(config: config).run() == .reachedEnd)
            (copies, ids) = try Self.copies(harness, tables: ["accounts", "seed"])
            #expect(copies["seed"]!.stops == 1, "one s event with capture stopped for seed")
            #expect(
                copies["seed"]!.rows.keys.sorted() == [1], "seed's insert after it left the publication was captured")
            try copies["accounts"]!.expectEquals(
                harness, "SELECT id, balance, version FROM accounts", columns: ["balance", "version"])
            #expect(Set(ids).count == ids.count, "event ids repeat")
            let events = try harness.allEvents()
            let started = events.firstIndex { $0.table == "accounts" && $0.json["capture"] as? String == "started" }
            let firstRead = events.firstIndex { $0.table == "accounts" && $0.op == "r" }
            #expect(started != nil && firstRead != nil && started! < firstRead!, "the s event comes before the rows")
        }

        /// Under FOR TABLES IN SCHEMA a table created later is found without
        /// any change of it, at the poller's cadence, by a pipeline that keeps running.
        @Test(.timeLimit(.minutes(4)))
        func aTableCreatedUnderTablesInSchemaIsFoundWithoutAChangeOfIt() async throws {
            let harness = try await CaptureHarness(
                setup: """
                    CREATE SCHEMA app;
                    CREATE TABLE app.first (id int PRIMARY KEY);
                    CREATE PUBLICATION popsink FOR TABLES IN SCHEMA app;
                    """)
            defer { harness.cleanUp() }
            let pipeline = Pipeline(config: try harness.config(endPosition: nil))
            await pipeline.start()
            for _ in 0..<600 where pipeline.status.state != .streaming {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(pipeline.status.state == .streaming)
            // Filled outside the publication, then moved into its schema: no row of it changes in the stream.
            try harness.execute(
                """
                CREATE SCHEMA staging;
                CREATE TABLE staging.quiet (id int PRIMARY KEY, v text);
                ALTER TABLE staging.quiet REPLICA IDENTITY FULL;
                INSERT INTO staging.quiet SELECT g, 'v' || g FROM generate_series(1, 3000) g;
                ALTER TABLE staging.quiet SET SCHEMA app;
                """)
            var copy = TableCopy(table: "quiet")
            for _ in 0..<600 {
                copy = TableCopy(table: "quiet")
                for event in try harness.allEvents() { copy.apply(event) }
                if copy.starts > 0, copy.rows.count == 3000 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(copy.starts == 1)
            try copy.expectEquals(harness, "SELECT id, v FROM app.quiet", columns: ["v"])

            try harness.execute("DROP TABLE app.quiet")
            var stops = 0
            for _ in 0..<600 where stops == 0 {
                stops = try harness.allEvents().filter {
                    $0.table == "quiet" && $0.json["capture"] as? String == "stopped"
                }.count
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(stops == 1, "no s event with capture stopped after the table was dropped")
            await pipeline.stop()
            let ids = try harness.allEvents().map(\.id)
            #expect(Set(ids).count == ids.count)
        }

        /// kill -9 of `popsink-pg run` during a backfill: it resumes, chunks
        /// finished before the kill are not read again, and the copy is exact.
        @Test(.timeLimit(.minutes(6)))
        func aBackfillKilledWithMinus9Resumes() async throws {
            let harness = try await CaptureHarness(
                setup: """
                    CREATE TABLE seed (id int PRIMARY KEY);
                    CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0,
                                           note text NOT NULL DEFAULT repeat('x', 200));
                    ALTER TABLE accounts REPLICA IDENTITY FULL;
                    INSERT INTO accounts (id, balance) SELECT g, g % 1000 FROM generate_series(100000001, 100300000) g;
                    CREATE PUBLICATION popsink FOR TABLE seed;
                    """)
            defer { harness.cleanUp() }
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--snapshot-chunk-pages", "256",
            ]
            let setup = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 120)
            #expect(setup.status == 0, "\(setup.output.suffix(2000))")
            try harness.execute("ALTER PUBLICATION popsink ADD TABLE accounts")
            let storedBefore = SnapshotResumeTests.storedEvents(at: harness.storePath)
            let running = try PopsinkProcess.start(arguments)
            // Killed from a thread of its own, as in SnapshotResumeTests: a task on
            // a busy cooperative pool may look too late, after the backfill ended.
            let killed = Atomic(false)
            let exited = Atomic(false)
            let (pid, storePath) = (running.process.processIdentifier, harness.storePath)
            let killer = Thread {
                let deadline = Date().addingTimeInterval(120)
                while !exited.load(ordering: .acquiring), Date() < deadline,
                    SnapshotResumeTests.storedEvents(at: storePath) < storedBefore + 20_000
                {
                    usleep(2_000)
                }
                if !exited.load(ordering: .acquiring) {
                    killed.store(true, ordering: .releasing)
                    kill(pid, SIGKILL)
                }
            }
            killer.start()
            while running.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            exited.store(true, ordering: .releasing)
            let wasKilled = killed.load(ordering: .acquiring)
            try #require(wasKilled, "the run ended before it could be killed: \(running.output().suffix(500))")
            let afterKill = try SnapshotResumeTests.chunks(harness)
            #expect(
                afterKill.contains { $0.isDone } && afterKill.contains { !$0.isDone }, "the kill missed the backfill")

            let load = WriteLoad(
                postgres: harness.postgres, database: harness.database, writers: 2, transactionsEach: 800,
                existing: 100_000_001...100_300_000)
            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 240)
            #expect(final.status == 0, "\(final.output.suffix(2000))")
            await load.waitUntilFinished()
            let last = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 240)
            #expect(last.status == 0, "\(last.output.suffix(2000))")

            let after = try SnapshotResumeTests.chunks(harness)
            #expect(after.allSatisfy { $0.isDone })
            for chunk in afterKill where chunk.isDone {
                #expect(after.first { $0.id == chunk.id }?.rows == chunk.rows, "chunk \(chunk.id) was loaded again")
            }
            let (copies, ids) = try Self.copies(harness, tables: ["accounts"])
            #expect(Set(ids).count == ids.count, "event ids repeat")
            #expect(copies["accounts"]!.starts == 1)
            try copies["accounts"]!.expectEquals(
                harness, "SELECT id, balance, version FROM accounts", columns: ["balance", "version"])
        }
    }
}
