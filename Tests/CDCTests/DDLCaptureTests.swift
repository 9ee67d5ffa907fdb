// DDL capture against a real Postgres: with the event trigger installed, a
// DDL that no row change follows is announced in commit order (an `s` event
// at the DDL, then an `m` event with the command), the Relation message of
// the next change makes no second version, a DDL between two changes of one
// transaction splits them between two versions, a dropped table gets its
// `s` event with `dropped: true`, and a filtered-out table announces nothing.
// The writer-driven evolutions of SchemaEvolutionTests hold with it too.

import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@testable import CDC

@Suite(.serialized) struct DDLCaptureTests {
    typealias Evolution = SchemaEvolutionTests

    static func harness() throws -> CaptureHarness {
        let harness = try CaptureHarness(setup: Evolution.setup)
        try DDLCapture.install(on: harness.postgres.connect(database: harness.database))
        return harness
    }

    static func ops(_ harness: CaptureHarness, table: String = "t") throws -> [String] {
        try harness.allEvents().filter { $0.table == table }.map { "\($0.op)\($0.source["schema_version"] ?? "-")" }
    }

    @Test func ddlWithoutARowChangeIsAnnouncedInCommitOrder() throws {
        let harness = try Self.harness()
        defer { harness.cleanUp() }
        #expect(try DDLCapture.isInstalled(on: harness.postgres.connect(database: harness.database)))
        try harness.capture(filter: Evolution.filter)
        try harness.execute("ALTER TABLE t ADD COLUMN a int DEFAULT 7")
        try harness.execute("ALTER TABLE t ALTER COLUMN n TYPE bigint")
        try harness.execute("ALTER TABLE t RENAME COLUMN n TO m")
        try harness.capture(filter: Evolution.filter)
        // Versions 2, 3, 4 are stored with no row change after them.
        let reader = try EventStoreReader(path: harness.storePath)
        defer { reader.close() }
        #expect(try reader.tableSchemaHistory(schema: "public", table: "t").map(\.version) == [1, 2, 3, 4])
        let announced = try harness.allEvents().filter { $0.op == "s" || $0.op == "m" }
        #expect(announced.map(\.op) == ["s", "s", "m", "s", "m", "s", "m"])
        let message = try #require(announced[2].json["message"] as? [String: Any])
        #expect(message["prefix"] as? String == "popsink.ddl")
        let content = try #require(message["content"] as? [String: Any])
        #expect(content["tag"] as? String == "ALTER TABLE")
        #expect(content["identity"] as? String == "public.t")
        #expect(content["sql"] as? String == "ALTER TABLE t ADD COLUMN a int DEFAULT 7")
        // Each `s` event and its `m` share the DDL's transaction.
        #expect(announced[1].id.split(separator: ":").first == announced[2].id.split(separator: ":").first)
        let renamed = try #require(announced[5].json["change"] as? [String: Any])
        #expect((renamed["renamed"] as? [[String: Any]])?.first?["to"] as? String == "m")

        // DDL between two changes of one transaction: one change per version.
        try harness.execute(
            """
            BEGIN;
            INSERT INTO t (id, v) VALUES (300, 'before');
            ALTER TABLE t DROP COLUMN a;
            INSERT INTO t (id, v) VALUES (301, 'after');
            COMMIT;
            """)
        try harness.capture(filter: Evolution.filter)
        #expect(try Self.ops(harness).suffix(4) == ["c4", "s5", "m5", "c5"])
        // A restart reads the same Relation again: no version.
        try harness.execute("UPDATE t SET v = 'z' WHERE id = 1")
        try harness.capture(filter: Evolution.filter)
        #expect(try Self.ops(harness).last == "u5")
        try Evolution.verify(harness, versions: 5)
    }

    @Test func evolutionsWithWritersRunningHoldWithDDLCapture() async throws {
        let harness = try Self.harness()
        defer { harness.cleanUp() }
        try await Evolution.evolve(
            [
                "ALTER TABLE t ADD COLUMN a int DEFAULT 7", "ALTER TABLE t ALTER COLUMN n TYPE bigint",
                "ALTER TABLE t RENAME COLUMN n TO m", "ALTER TABLE t DROP COLUMN m",
                "ALTER TABLE t DROP CONSTRAINT t_pkey", "ALTER TABLE t ADD PRIMARY KEY (id)",
            ], harness: harness)
        // The key is read when the DDL commits, so even captured together
        // every key change is its own version.
        let schemas = try Evolution.verify(harness, versions: 7)
        #expect((schemas[4].change?["dropped"] as? [String]) == ["m"])
        #expect((schemas[5].change?["key_changed"] as? [String: Any])?["to"] as? [String] == [])
        #expect((schemas[6].change?["key_changed"] as? [String: Any])?["to"] as? [String] == ["id"])
    }

    @Test func aDroppedTableAndAFilteredOutTable() throws {
        let harness = try Self.harness()
        defer { harness.cleanUp() }
        try harness.capture(filter: Evolution.filter)
        try harness.execute("ALTER TABLE skipped ADD COLUMN y int")
        try harness.execute("DROP TABLE t")
        try harness.capture(filter: Evolution.filter)
        let events = try harness.allEvents()
        #expect(events.allSatisfy { $0.table == "t" }, "nothing of the filtered-out table")
        let dropped = try #require(events.last { $0.op == "s" })
        #expect(dropped.json["dropped"] as? Bool == true)
        #expect((dropped.json["schema"] as? [String: Any])?["columns"] as? [Any] != nil)
        #expect(((dropped.json["schema"] as? [String: Any])?["columns"] as? [Any])?.isEmpty == true)
        #expect((dropped.json["change"] as? [String: Any])?["dropped"] as? [String] == ["id", "v", "n"])
        // The DDL's own message; the table leaving the publication may add
        // its `capture: stopped` announcement after it.
        let drop = try #require(events.last { $0.op == "m" })
        #expect(
            ((drop.json["message"] as? [String: Any])?["content"] as? [String: Any])?["tag"] as? String == "DROP TABLE")
        let reader = try EventStoreReader(path: harness.storePath)
        defer { reader.close() }
        #expect(try reader.latestTableSchemas().map { "\($0.table) \($0.version) \($0.columns)" } == ["t 2 []"])
    }
}
