// Large transactions streamed before they commit (protocol 2, streaming on):
// staged on disk, stored once at Stream Commit in commit order, dropped on
// abort, exact after kill -9, and in bounded memory.

import CDC
import Foundation
import PipelineTestSupport
import PostgresReplication
import PostgresWire
import Testing

extension HeavyTests {
    @Suite struct StreamingTests {
        static let setup = """
            CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0);
            ALTER TABLE accounts REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE accounts;
            """
        /// Makes Postgres stream any transaction over 64 kB of changes.
        static let streamEarly = "-c logical_decoding_work_mem=64kB"

        static func streamingConfig(_ harness: CaptureHarness) throws -> PipelineConfig {
            var config = try harness.config()
            config.source["options"] = streamEarly
            return config
        }

        static func captureStreaming(_ harness: CaptureHarness, sourceLocation: SourceLocation = #_sourceLocation)
            throws
        {
            #expect(
                PipelineWorker(config: try streamingConfig(harness)).run() == .reachedEnd,
                sourceLocation: sourceLocation)
        }

        /// How many transactions Postgres streamed for this test's slot.
        static func streamedTransactions(_ harness: CaptureHarness) throws -> Int {
            Int(
                try harness.execute(
                    "SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = '\(harness.slotName)'"
                ).value("stream_txns") ?? "0") ?? 0
        }

        static func ids(_ events: [Event]) -> [Int] {
            events.compactMap { intValue(($0.op == "d" ? $0.before : $0.after)?["id"]) }
        }

        @Test func largeTransactionIsStreamedAndStoredOnceInOrder() throws {
            let harness = try CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            try Self.captureStreaming(harness)
            try harness.execute(
                """
                BEGIN;
                INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 20000) g;
                UPDATE accounts SET balance = 1, version = 1 WHERE id <= 5000;
                COMMIT;
                """)
            try Self.captureStreaming(harness)
            #expect(try Self.streamedTransactions(harness) >= 1, "Postgres did not stream the transaction")
            let events = try harness.events()
            #expect(events.count == 25_000)
            let ordinals = events.map { Int($0.id.split(separator: ":").last ?? "") ?? -1 }
            #expect(ordinals == Array(0..<25_000), "ordinals are not 0..<25000 in order")
            #expect(Set(events.map { $0.source["commit_lsn"] as? String ?? "" }).count == 1)
            try verifyAccounts(events, harness: harness)
        }

        @Test func interleavedStreamedTransactionsAreStoredInCommitOrder() throws {
            let harness = try CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            try Self.captureStreaming(harness)
            let first = try harness.postgres.connect(database: harness.database)
            let second = try harness.postgres.connect(database: harness.database)
            try first.query("BEGIN; INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 4000) g")
            try second.query("BEGIN; INSERT INTO accounts SELECT g, 0 FROM generate_series(100001, 104000) g")
            try first.query("INSERT INTO accounts SELECT g, 0 FROM generate_series(4001, 8000) g")
            try second.query("INSERT INTO accounts SELECT g, 0 FROM generate_series(104001, 108000) g; COMMIT")
            try first.query("COMMIT")
            try Self.captureStreaming(harness)
            #expect(try Self.streamedTransactions(harness) >= 2)
            let ids = Self.ids(try harness.events())
            // The second transaction committed first, so all of it comes first.
            #expect(ids == Array(100_001...108_000) + Array(1...8000), "events are not in commit order")
        }

        @Test func abortedStreamedTransactionLeavesNothing() throws {
            let harness = try CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            try Self.captureStreaming(harness)
            try harness.execute(
                """
                BEGIN;
                INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 10000) g;
                ROLLBACK;
                INSERT INTO accounts VALUES (7, 7);
                """)
            try Self.captureStreaming(harness)
            #expect(try Self.streamedTransactions(harness) >= 1)
            #expect(Self.ids(try harness.events()) == [7])
        }

        /// Issue 11 item 10: a streamed transaction that aborts must not stop
        /// the slot from advancing while nothing else happens in this database.
        @Test func theSlotKeepsAdvancingAfterAStreamedTransactionAborts() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            try Self.captureStreaming(harness)
            var config = try Self.streamingConfig(harness)
            config.endPosition = nil
            let pipeline = Pipeline(config: config)
            await pipeline.start()
            try harness.execute(
                """
                BEGIN;
                INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 10000) g;
                ROLLBACK;
                """)
            let position = try harness.execute("SELECT pg_current_wal_lsn()::text AS lsn").value("lsn")
            let aborted = try #require(position.flatMap { LSN($0) })
            // Only another database is written (so the walsender has WAL to
            // report in keepalives); this one stays idle after the abort.
            let elsewhere = try harness.postgres.createDatabase()
            try harness.postgres.execute("CREATE TABLE noise (x int)", database: elsewhere)
            var confirmed = try harness.confirmedFlush()
            for _ in 0..<20 where (confirmed ?? .zero) < aborted {
                try harness.postgres.execute("INSERT INTO noise SELECT generate_series(1, 100)", database: elsewhere)
                try await Task.sleep(for: .milliseconds(500))
                confirmed = try harness.confirmedFlush()
            }
            #expect(await pipeline.stop() == .stopped)
            #expect(try Self.streamedTransactions(harness) >= 1, "Postgres did not stream the transaction")
            #expect(
                (confirmed ?? .zero) >= aborted,
                "confirmed_flush_lsn stayed at \(confirmed.map(String.init(describing:)) ?? "none"), before the abort at \(aborted)"
            )
            #expect(try harness.events().isEmpty)
        }

        @Test func rolledBackSavepointsInsideAStreamedTransactionAreDropped() throws {
            let harness = try CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            try Self.captureStreaming(harness)
            try harness.execute(
                """
                BEGIN;
                INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 3000) g;
                SAVEPOINT a;
                INSERT INTO accounts SELECT g, 0 FROM generate_series(3001, 6000) g;
                SAVEPOINT b;
                UPDATE accounts SET version = version + 1, balance = 5 WHERE id <= 3000;
                ROLLBACK TO SAVEPOINT a;
                INSERT INTO accounts SELECT g, 0 FROM generate_series(6001, 9000) g;
                SAVEPOINT c;
                UPDATE accounts SET version = version + 1 WHERE id > 6000;
                RELEASE SAVEPOINT c;
                COMMIT;
                """)
            try Self.captureStreaming(harness)
            #expect(try Self.streamedTransactions(harness) >= 1)
            let events = try harness.events()
            #expect(events.count == 9000)
            #expect(Set(Self.ids(events)) == Set(Array(1...3000) + Array(6001...9000)))
            try verifyAccounts(events, harness: harness)
        }

        @Test(.timeLimit(.minutes(6)))
        func killNineDuringStreamingAndDuringCommitKeepsEverythingExact() async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let source = harness.connectionString + " options='\(Self.streamEarly)'"
            let arguments = ["run", source, "--data-dir", harness.dataDirectory.path, "--pipeline", harness.pipelineID]
            let first = try PopsinkProcess.run(arguments + ["--end-lsn", "current"])
            #expect(first.status == 0, "\(first.output)")

            // Large transactions, one after the other, each with a rolled-back savepoint.
            let writer = Task.detached {
                let connection = try harness.postgres.connect(database: harness.database)
                for round in 0..<6 {
                    let base = round * 100_000
                    try connection.query(
                        """
                        BEGIN;
                        INSERT INTO accounts SELECT g, 0 FROM generate_series(\(base + 1), \(base + 20000)) g;
                        UPDATE accounts SET balance = 1, version = version + 1 WHERE id BETWEEN \(base + 1) AND \(base + 5000);
                        SAVEPOINT s;
                        DELETE FROM accounts WHERE id > \(base + 10000);
                        ROLLBACK TO SAVEPOINT s;
                        DELETE FROM accounts WHERE id BETWEEN \(base + 19001) AND \(base + 20000);
                        COMMIT;
                        """)
                }
            }
            var kills = 0
            for _ in 0..<6 {
                let process = try PopsinkProcess.start(arguments)
                try await Task.sleep(for: .milliseconds(Int.random(in: 200...1500)))
                if process.isRunning {
                    process.kill()
                    kills += 1
                }
            }
            try await writer.value
            #expect(kills >= 5)
            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 180)
            #expect(final.status == 0, "\(final.output.suffix(2000))")
            #expect(try Self.streamedTransactions(harness) >= 1)
            let events = try harness.events()
            #expect(events.count == 6 * (20_000 + 5000 + 1000))
            try verifyAccounts(events, harness: harness)
        }

        @Test(.timeLimit(.minutes(8)))
        func millionRowTransactionPassesInBoundedMemory() throws {
            let harness = try CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--end-lsn", "current",
            ]
            #expect(try PopsinkProcess.run(arguments).status == 0)
            try harness.execute("INSERT INTO accounts SELECT g, g % 1000 FROM generate_series(1, 1000000) g")
            let run = try PopsinkProcess.run(arguments + ["--verbose"], timeout: 420)
            #expect(run.status == 0, "\(run.output.suffix(2000))")
            #expect(try Self.streamedTransactions(harness) >= 1)
            // popsink-pg reports its own peak resident set (VmHWM) at exit.
            let reported = run.output.split(separator: "\n").last { $0.contains("peak RSS") }
            let peakMegabytes = reported?.split(separator: " ").reversed().dropFirst().first.flatMap { Int($0) }
            #expect(peakMegabytes != nil, "no peak RSS in: \(run.output.suffix(500))")
            print("million-row transaction: \(reported.map(String.init) ?? "no summary")")
            #expect((peakMegabytes ?? .max) < 150, "peak RSS \(peakMegabytes ?? -1) MiB")
            let count = try harness.execute("SELECT count(*) AS n FROM accounts").value("n")
            #expect(try harness.events().count == Int(count ?? ""))
        }
    }
}
