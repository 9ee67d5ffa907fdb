// `kill -9` of `popsink-pg run` between a DDL and the next row change, with
// and without DDL capture: after a final run every version of the table is
// stored once, numbered 1, 2, … with no gap, each announced by exactly one
// `s` event before the first change decoded with it, and a consumer that
// applies the stream ends with the source's columns and values.

import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@testable import CDC

extension HeavyTests {
    @Suite struct SchemaCrashTests {
        typealias Evolution = SchemaEvolutionTests

        static func versions(_ harness: CaptureHarness) throws -> Int {
            guard let reader = try EventStoreReader.openIfCreated(path: harness.storePath) else { return 0 }
            defer { reader.close() }
            return try reader.tableSchemaHistory(schema: "public", table: "t").count
        }

        static let steps = [
            "ALTER TABLE t ADD COLUMN a int DEFAULT 7", "ALTER TABLE t ALTER COLUMN n TYPE bigint",
            "ALTER TABLE t RENAME COLUMN n TO m", "ALTER TABLE t ADD COLUMN b text", "ALTER TABLE t DROP COLUMN m",
        ]

        @Test(.timeLimit(.minutes(5)), arguments: [false, true])
        func killNineBetweenDDLAndTheNextChangeLosesAndDuplicatesNoVersion(ddlCapture: Bool) async throws {
            let harness = try await CaptureHarness(setup: Evolution.setup)
            defer { harness.cleanUp() }
            if ddlCapture { try DDLCapture.install(on: harness.postgres.connect(database: harness.database)) }
            let arguments = [
                "run", harness.connectionString, "--data-dir", harness.dataDirectory.path,
                "--pipeline", harness.pipelineID, "--exclude-tables", "skipped",
            ]
            let first = try PopsinkProcess.run(arguments + ["--end-lsn", "current"])
            #expect(first.status == 0, "first run failed: \(first.output)")

            for (index, ddl) in Self.steps.enumerated() {
                let process = try PopsinkProcess.start(arguments)
                try harness.execute(ddl)
                if ddlCapture && index % 2 == 1 {
                    // Killed right after the DDL's version is durable.
                    for _ in 0..<500 where try Self.versions(harness) < index + 2 {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(try Self.versions(harness) == index + 2, "the DDL alone made its version")
                } else {
                    // Killed anywhere from before the session starts to after the DDL is decoded.
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...600)))
                }
                if process.isRunning {
                    process.kill()
                } else {
                    Issue.record("popsink-pg exited early: \(process.output())")
                }
                try harness.execute(
                    "INSERT INTO t (id, v) VALUES (\(200 + index), 'after \(index)'); UPDATE t SET v = v || '+' WHERE id = \(index + 1)"
                )
            }
            let final = try PopsinkProcess.run(arguments + ["--end-lsn", "current"], timeout: 120)
            #expect(final.status == 0, "final run failed: \(final.output)")

            let reader = try EventStoreReader(path: harness.storePath)
            defer { reader.close() }
            let history = try reader.tableSchemaHistory(schema: "public", table: "t")
            #expect(history.map(\.version) == Array(1...Int64(Self.steps.count + 1)))
            let events = try harness.allEvents()
            #expect(Set(events.map(\.id)).count == events.count, "no event stored twice")
            let announced = events.filter { $0.op == "s" }.compactMap { $0.source["schema_version"] as? Int }
            #expect(announced == Array(1...Self.steps.count + 1), "one s event per version, in order")
            #expect(events.filter { $0.op == "m" }.count == (ddlCapture ? Self.steps.count : 0))
            try Evolution.verify(harness, versions: Self.steps.count + 1)
        }
    }
}
