// Renames told exactly, against a real Postgres, with and without DDL
// capture: columns are matched by attribute number, so two columns swapping
// names are two renames (by position and name nothing would seem to change),
// a rename with a type change is both (by position and type it would be a
// drop and an add), and a drop plus an add of the same type in one ALTER is
// not a rename (by position it would be).

import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@testable import CDC

extension HeavyTests {
    @Suite struct SchemaRenameLiveTests {
        /// Each change of one version: `renamed a>b`, `retyped x integer>bigint`, `dropped c`, `added d`.
        static func changes(_ event: Event) -> [String] {
            guard let change = event.json["change"] as? [String: Any] else { return [] }
            var out: [String] = []
            for rename in change["renamed"] as? [[String: Any]] ?? [] {
                out.append("renamed \(rename["from"] ?? "")>\(rename["to"] ?? "")")
            }
            for retype in change["retyped"] as? [[String: Any]] ?? [] {
                out.append("retyped \(retype["column"] ?? "") \(retype["from"] ?? "")>\(retype["to"] ?? "")")
            }
            for name in change["dropped"] as? [String] ?? [] { out.append("dropped \(name)") }
            for column in change["added"] as? [[String: Any]] ?? [] { out.append("added \(column["name"] ?? "")") }
            return out
        }

        @Test(.timeLimit(.minutes(4)), arguments: [false, true])
        func renamesAreToldByAttributeNumber(ddlCapture: Bool) throws {
            let harness = try CaptureHarness(
                setup: """
                    CREATE TABLE t (id int PRIMARY KEY, a int, b int, c int);
                    ALTER TABLE t REPLICA IDENTITY FULL;
                    INSERT INTO t VALUES (1, 10, 20, 30);
                    CREATE PUBLICATION popsink FOR TABLE t;
                    """)
            defer { harness.cleanUp() }
            if ddlCapture { try DDLCapture.install(on: harness.postgres.connect(database: harness.database)) }
            try harness.capture()
            // Each step, then a change of the table, then a run that decodes it.
            for step in [
                "ALTER TABLE t RENAME a TO tmp; ALTER TABLE t RENAME b TO a; ALTER TABLE t RENAME tmp TO b",
                "BEGIN; ALTER TABLE t RENAME a TO x; ALTER TABLE t ALTER x TYPE bigint; COMMIT",
                "ALTER TABLE t DROP COLUMN c, ADD COLUMN d int",
            ] {
                try harness.execute(step)
                try harness.execute("UPDATE t SET id = id + 1")
                try harness.capture()
            }
            let versions = try harness.allEvents().filter { $0.op == "s" }.map(Self.changes)
            if ddlCapture {
                #expect(
                    versions == [
                        [], ["renamed a>tmp"], ["renamed b>a"], ["renamed tmp>b"], ["renamed a>x"],
                        ["retyped x integer>bigint"], ["dropped c", "added d"],
                    ])
            } else {
                #expect(
                    versions == [
                        [], ["renamed a>b", "renamed b>a"], ["renamed a>x", "retyped x integer>bigint"],
                        ["dropped c", "added d"],
                    ])
            }
            let last = try #require(harness.events().last)
            #expect(last.after?.keys.sorted() == ["b", "d", "id", "x"])
            #expect(intValue(last.after?["b"]) == 10 && intValue(last.after?["x"]) == 20)
        }
    }
}
