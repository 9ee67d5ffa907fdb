// The snapshot: rows that exist when the pipeline starts are stored once
// as `r` events, before the stream, and the stream picks up exactly where the
// snapshot stopped, even with writers busy during the load.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import Testing

extension HeavyTests {
    @Suite struct SnapshotTests {
        static let setup = """
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0);
            ALTER TABLE accounts REPLICA IDENTITY FULL;
            CREATE TABLE notes (id int PRIMARY KEY, body text, tags text[], at timestamptz);
            ALTER TABLE notes REPLICA IDENTITY FULL;
            CREATE TABLE skipped (id int PRIMARY KEY);
            CREATE PUBLICATION popsink FOR TABLE accounts, notes, skipped;
            INSERT INTO accounts SELECT g, 0 FROM generate_series(90000001, 90005000) g;
            INSERT INTO notes VALUES
                (1, E'tab\\there, newline\\n, backslash \\\\ and é', '{a,"b c",NULL}', '2026-11-24 10:00:00.5+02'),
                (2, NULL, '{}', NULL);
            INSERT INTO skipped VALUES (1);
            """

        @Test(.timeLimit(.minutes(3)))
        func existingRowsAreLoadedOnceThenTheStreamContinuesExactly() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            // Writers keep changing the table while the slot is created and loaded.
            let load = WriteLoad(postgres: harness.postgres, database: harness.database, writers: 2)
            try await Task.sleep(for: .milliseconds(300))
            try harness.capture(filter: TableFilter(excludeTables: ["skipped"]))
            await load.stop()
            try harness.capture(filter: TableFilter(excludeTables: ["skipped"]))

            let events = try harness.events()
            let reads = events.filter { $0.op == "r" }
            // Every read comes before every streamed change.
            let firstStreamed = events.firstIndex { $0.op != "r" } ?? events.count
            #expect(reads.count == firstStreamed)
            #expect(reads.allSatisfy { $0.source["snapshot"] as? Bool == true && $0.source["txid"] is NSNull })
            #expect(Set(reads.map(\.table)) == ["accounts", "notes"])
            #expect(Set(events.map(\.id)).count == events.count)
            #expect(reads.filter { $0.table == "accounts" }.count >= 5000)

            // Rows of the load, then the stream, rebuild the table exactly (also
            // the rows the writers changed while the load ran).
            let table = try harness.execute("SELECT id, balance, version FROM accounts")
            var expected: [Int: [Int]] = [:]
            for row in table.rows { expected[Int(row[0]!)!] = [Int(row[1]!)!, Int(row[2]!)!] }
            let rebuilt = rebuild(events, table: "accounts").mapValues {
                [intValue($0["balance"]) ?? -1, intValue($0["version"]) ?? -1]
            }
            #expect(rebuilt == expected)

            let note = try #require(reads.first { $0.table == "notes" && intValue($0.after?["id"]) == 1 })
            #expect(note.after?["body"] as? String == "tab\there, newline\n, backslash \\ and é")
            #expect((note.after?["tags"] as? [Any])?.count == 3)
            #expect(note.after?["at"] as? String == "2026-11-24T08:00:00.5Z")
            #expect(note.key?["id"] as? Int == 1)
            let empty = try #require(reads.first { $0.table == "notes" && intValue($0.after?["id"]) == 2 })
            #expect(empty.after?["body"] is NSNull)
        }

        @Test func noSnapshotCapturesOnlyNewChanges() throws {
            let harness = try CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            var config = try harness.config()
            config.snapshot.enabled = false
            #expect(PipelineWorker(config: config).run() == .reachedEnd)
            try harness.execute("INSERT INTO accounts VALUES (9001, 1)")
            #expect(PipelineWorker(config: config).run() == .reachedEnd)
            #expect(try harness.events().map(\.op) == ["c"])
        }

        /// A table of about 260 MB (1,000,000 rows) read by two workers in 2048-page
        /// chunks while writers update its rows and add and delete their own:
        /// every pre-existing row is loaded exactly once, before any streamed
        /// change, the events rebuild the table exactly, and memory stays bounded.
        @Test(.timeLimit(.minutes(12)))
        func aMillionRowTableLoadsInParallelChunksWhileWritersRun() async throws {
            let existing = 200_000_001...201_000_000
            let harness = try await CaptureHarness(
                setup: """
                    CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0,
                                           note text NOT NULL DEFAULT '');
                    ALTER TABLE accounts REPLICA IDENTITY FULL;
                    CREATE PUBLICATION popsink FOR TABLE accounts;
                    INSERT INTO accounts (id, balance, note)
                        SELECT g, g % 1000, repeat(md5(g::text), 6) FROM generate_series(\(existing.lowerBound), \(existing.upperBound)) g;
                    ANALYZE accounts;
                    """)
            defer { harness.cleanUp() }
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--end-lsn", "current",
                "--snapshot-workers", "2", "--snapshot-chunk-pages", "2048",
            ]
            let load = WriteLoad(
                postgres: harness.postgres, database: harness.database, writers: 2, transactionsEach: 1500,
                existing: existing)
            let run = try PopsinkProcess.run(arguments + ["--verbose"], timeout: 600)
            #expect(run.status == 0, "\(run.output.suffix(2000))")
            await load.waitUntilFinished()
            #expect(try PopsinkProcess.run(arguments, timeout: 300).status == 0)

            let reported = run.output.split(separator: "\n").last { $0.contains("peak RSS") }
            print("million-row snapshot: \(reported.map(String.init) ?? "no summary")")
            let peakMegabytes = reported?.split(separator: " ").reversed().dropFirst().first.flatMap { Int($0) }
            #expect((peakMegabytes ?? .max) < 150, "peak RSS \(peakMegabytes ?? -1) MiB")

            let chunks = try SnapshotResumeTests.chunks(harness)
            #expect(chunks.count >= 8, "the table was not cut into chunks: \(chunks.count)")
            #expect(chunks.allSatisfy { $0.isDone })

            var check = AccountsCheck()
            var loadedTimes = [UInt8](repeating: 0, count: existing.count)
            var reads: Int64 = 0
            var readsAfterStream = 0
            var streamed = false
            try harness.forEachEvent { event in
                check.add(event)
                guard event.op == "r" else {
                    streamed = true
                    return
                }
                reads += 1
                if streamed { readsAfterStream += 1 }
                if let id = intValue(event.after?["id"]), existing.contains(id) {
                    loadedTimes[id - existing.lowerBound] &+= 1
                }
            }
            try check.verify(harness: harness)
            #expect(readsAfterStream == 0)
            #expect(
                loadedTimes.allSatisfy { $0 == 1 },
                "rows loaded other than once: \(loadedTimes.indices.filter { loadedTimes[$0] != 1 }.prefix(5))")
            // Each chunk counts the rows stored for it (the writers' rows that
            // existed at the snapshot included).
            #expect(chunks.reduce(0) { $0 + $1.rows } == reads)
        }

        /// Several tables at once, in small chunks, with an empty table, a table
        /// without a key, and tables the filter leaves out: exactly the selected
        /// tables are loaded, and the status reports each as done.
        @Test(.timeLimit(.minutes(3)))
        func selectedTablesLoadInParallelAndReportProgress() throws {
            let harness = try CaptureHarness(
                setup: """
                    CREATE SCHEMA app; CREATE SCHEMA audit;
                    CREATE TABLE app.orders (id int PRIMARY KEY, item text);
                    CREATE TABLE app.events (at int, what text);
                    CREATE TABLE app.empty (id int PRIMARY KEY);
                    CREATE TABLE app.tmp_scratch (id int PRIMARY KEY);
                    CREATE TABLE audit.log (id int PRIMARY KEY);
                    CREATE PUBLICATION popsink FOR ALL TABLES;
                    INSERT INTO app.orders SELECT g, 'item ' || g FROM generate_series(1, 3000) g;
                    INSERT INTO app.events SELECT g, repeat('e', g % 50) FROM generate_series(1, 2000) g;
                    INSERT INTO app.tmp_scratch SELECT generate_series(1, 10);
                    INSERT INTO audit.log SELECT generate_series(1, 10);
                    ANALYZE;
                    """)
            defer { harness.cleanUp() }
            var config = try harness.config(filter: TableFilter(includeSchemas: ["app"], excludeTables: ["tmp_*"]))
            config.snapshot = SnapshotOptions(workers: 3, chunkPages: 4)
            let worker = PipelineWorker(config: config)
            #expect(worker.run() == .reachedEnd)

            let events = try harness.events()
            var counts: [String: Int] = [:]
            for event in events where event.op == "r" { counts[event.table, default: 0] += 1 }
            #expect(counts == ["orders": 3000, "events": 2000])
            #expect(events.allSatisfy { $0.op == "r" })
            let orderIDs = Set(events.filter { $0.table == "orders" }.compactMap { intValue($0.key?["id"]) })
            #expect(orderIDs == Set(1...3000))

            let progress = worker.progress.status.snapshot
            #expect(progress.map { "\($0.schema).\($0.table)" }.sorted() == ["app.empty", "app.events", "app.orders"])
            for table in progress {
                #expect(table.state == .done, "\(table.table) is \(table.state)")
                #expect(table.chunksDone == table.chunksTotal)
                #expect(table.rowsDone == Int64(counts[table.table] ?? 0))
            }
            #expect((progress.first { $0.table == "orders" }?.chunksTotal ?? 0) > 1, "orders was not chunked")
            #expect((progress.first { $0.table == "orders" }?.estimatedRows ?? 0) > 0)
            #expect(worker.progress.status.eventsByOperation.reads == 5000)
        }
    }
}
