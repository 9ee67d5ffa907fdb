// Scenario 1 of the fault suite, during a backfill: a table added to the
// publication while `popsink-pg run` streams is loaded in watermark pieces
// beside the stream; `kill -9` in the middle of that load, twice, must lose
// none of its rows and none of the writers' changes, and a later run must
// finish it.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct KillDuringBackfillTests {
        @Test(.timeLimit(.minutes(10)))
        func killsDuringABackfillLoseNothing() async throws {
            let lateRows = 60_000
            let harness = try await CaptureHarness(
                setup: OracleSchema.setup() + """

                    CREATE TABLE late (id int PRIMARY KEY, pad text NOT NULL);
                    ALTER TABLE late REPLICA IDENTITY FULL;
                    INSERT INTO late SELECT g, repeat('l', 200) FROM generate_series(1, \(lateRows)) g;
                    """)
            defer { harness.cleanUp() }
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path, "--pipeline",
                harness.pipelineID, "--snapshot-chunk-pages", "32", "--snapshot-rows-per-group", "500",
                "--receive-timeout", "30",
            ]
            let workload = OracleWorkload(postgres: harness.postgres, database: harness.database, writers: 2)

            var addedAt: Int64 = 0
            var killsDuringTheBackfill = 0
            for round in 0..<3 {
                let process = try PopsinkProcess.start(arguments)
                let before = harness.storedSequence()
                if round == 0 {
                    // Streaming, the initial load done: then the table joins.
                    try await waitFor(process) {
                        try harness.storedSequence() > before && loadState(harness) == "done"
                    }
                    try harness.execute("ALTER PUBLICATION popsink ADD TABLE late")
                    addedAt = harness.storedSequence()
                    try await waitFor(process) { try loadState(harness) == "pending" }
                } else {
                    try await waitFor(process) { harness.storedSequence() > before }
                }
                // Killed once part of the table is stored, while its load is still pending.
                let target = harness.storedSequence() + 1_500
                try await waitFor(process) {
                    try harness.storedSequence() > target || loadState(harness) == "done"
                }
                if try loadState(harness) == "pending" { killsDuringTheBackfill += 1 }
                #expect(process.isRunning, "round \(round): popsink-pg exited on its own: \(process.output())")
                process.kill()
            }
            #expect(killsDuringTheBackfill >= 1, "no kill landed during the backfill")
            await workload.stop()

            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 300)
            #expect(final.status == 0, "final run failed: \(final.output)")
            #expect(try loadState(harness) == "done")
            let events = try harness.allEvents()
            let late = events.filter { $0.table == "late" }
            print(
                "kill -9 during a backfill: \(killsDuringTheBackfill) kills while it was pending, "
                    + "\(late.filter { $0.op == "r" }.count) rows of \(lateRows) loaded (a resumed piece reads its rows again), "
                    + "added after event \(addedAt)")
            let rebuilt = rebuild(late.filter { $0.op != "s" }, table: "late")
            #expect(rebuilt.count == lateRows, "\(rebuilt.count) rows of late rebuilt, \(lateRows) in the source")
            #expect(Set(rebuilt.keys) == Set(1...lateRows))
            try OracleCheck(ledger: workload.ledger, postgres: harness.postgres, database: harness.database)
                .verify(events.filter { $0.table != "late" }, scenario: "kill -9 during a backfill")
        }

        /// The store's load state: "pending" while a load or backfill has chunks left.
        func loadState(_ harness: CaptureHarness) throws -> String? {
            guard FileManager.default.fileExists(atPath: harness.storePath) else { return nil }
            let reader = try EventStoreReader(path: harness.storePath)
            defer { reader.close() }
            return try reader.metadata("initial_load")
        }

        /// Waits (generously) for `condition`, failing early if the process dies.
        func waitFor(_ process: PopsinkProcess, _ condition: () throws -> Bool) async throws {
            let deadline = Date().addingTimeInterval(180)
            while Date() < deadline {
                if try condition() { return }
                guard process.isRunning else {
                    throw TestPostgresError("popsink-pg exited before the kill: \(process.output())")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw TestPostgresError("the kill condition was not met within 180 s: \(process.output())")
        }
    }
}
