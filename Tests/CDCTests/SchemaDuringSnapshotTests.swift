// A DDL issued while the initial load runs, with and without DDL capture.
// The load holds ACCESS SHARE locks on every table it reads until it ends,
// so the ALTER waits (seen in pg_stat_activity) and commits after the
// consistent point: the loaded rows carry version 1, the DDL is version 2
// in the stream, and the consumer's copy ends equal to the source.

import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Synchronization
import Testing

@testable import CDC

extension HeavyTests {
    @Suite struct SchemaDuringSnapshotTests {
        typealias Evolution = SchemaEvolutionTests

        static let setup =
            Evolution.setup.replacingOccurrences(of: "CREATE PUBLICATION popsink FOR TABLE t, skipped;", with: "")
                + """
                CREATE TABLE bulk (id int PRIMARY KEY, note text NOT NULL DEFAULT repeat('x', 100));
                ALTER TABLE bulk REPLICA IDENTITY FULL;
                INSERT INTO bulk (id) SELECT g FROM generate_series(1, 200000) g;
                CREATE PUBLICATION popsink FOR TABLE bulk, t, skipped;
                """

        @Test(.timeLimit(.minutes(3)), arguments: [false, true])
        func aDDLDuringTheLoadIsTheNextVersionAfterItsRows(ddlCapture: Bool) async throws {
            let harness = try await CaptureHarness(setup: Self.setup)
            defer { harness.cleanUp() }
            if ddlCapture { try DDLCapture.install(on: harness.postgres.connect(database: harness.database)) }
            var config = try harness.config(filter: Evolution.filter)
            config.snapshot = SnapshotOptions(workers: 1, chunkPages: 64, rowsPerGroup: 2000)
            let outcome = Mutex<PipelineOutcome?>(nil)
            let load = Thread { [config] in
                let result = PipelineWorker(config: config).run()
                outcome.withLock { $0 = result }
            }
            load.start()
            let observer = try harness.postgres.connect(database: harness.database)
            func active(_ condition: String) throws -> Bool {
                try observer.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND \(condition)"
                ).rows.first?.first == "1"
            }
            // The load holds its lock on t from its start to its end.
            for _ in 0..<3000
            where try observer.query(
                "SELECT count(*) FROM pg_locks WHERE relation = 't'::regclass AND mode = 'AccessShareLock' AND granted AND pid <> pg_backend_pid()"
            ).rows.first?.first == "0" {
                try await Task.sleep(for: .milliseconds(10))
            }

            let ddlDone = Mutex(false)
            let ddl = Thread { [harness] in
                _ = try? harness.execute("ALTER TABLE t ADD COLUMN during int DEFAULT 3")
                _ = try? harness.execute("INSERT INTO t (id, v) VALUES (900, 'after the load')")
                ddlDone.withLock { $0 = true }
            }
            ddl.start()
            var waited = false
            for _ in 0..<500 where !waited && !ddlDone.withLock({ $0 }) {
                waited = try active("query ILIKE 'ALTER TABLE t%' AND wait_event_type = 'Lock'")
                if !waited { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(waited, "the ALTER was issued while the load held its locks")
            while outcome.withLock({ $0 }) == nil || !ddlDone.withLock({ $0 }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(outcome.withLock { $0 } == .reachedEnd)
            try harness.capture(filter: Evolution.filter)

            let events = try harness.allEvents().filter { $0.table == "t" }
            #expect(events.filter { $0.op == "r" }.allSatisfy { $0.source["schema_version"] as? Int == 1 })
            #expect(events.filter { $0.op == "r" }.count == 20)
            let afterLoad = events.drop { $0.op != "s" || $0.source["schema_version"] as? Int != 2 }
            #expect(afterLoad.map(\.op) == (ddlCapture ? ["s", "m", "c"] : ["s", "c"]))
            try Evolution.verify(harness, versions: 2)
        }
    }
}
