// Schema evolution against a real Postgres, with writers inserting while the
// DDL runs: each ALTER TABLE gives one `s` event before the first change
// decoded with the new columns, every event carries the version it was
// decoded with, restarts add no versions, a filtered-out table announces
// nothing, and a consumer that applies the stream to a copy of the table
// (following the `s` events) ends with the source's columns and values.

import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@testable import CDC

@Suite(.serialized) struct SchemaEvolutionTests {
    static let setup = """
        CREATE TABLE t (id int PRIMARY KEY, v text, n int);
        ALTER TABLE t REPLICA IDENTITY FULL;
        INSERT INTO t SELECT g, 'r' || g, g FROM generate_series(1, 20) g;
        CREATE TABLE skipped (id int PRIMARY KEY, x int);
        ALTER TABLE skipped REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE t, skipped;
        """
    static let filter = TableFilter(excludeTables: ["skipped"])

    /// Runs `steps` (each a DDL followed by a DML that touches the table),
    /// with a writer inserting rows throughout, capturing once before, once
    /// half way, and once at the end.
    /// `captureEach` captures after every step instead: the key is read from
    /// the catalog when a Relation message is resolved, so a key change is
    /// seen only if the pipeline resolves it before the next one.
    static func evolve(_ steps: [String], harness: CaptureHarness, captureEach: Bool = false) async throws {
        try harness.capture(filter: filter)
        let writer = Task.detached {
            let connection = try harness.postgres.connect(database: harness.database)
            for id in 1000..<1150 { try connection.query("INSERT INTO t (id, v) VALUES (\(id), 'w\(id)')") }
        }
        for (index, ddl) in steps.enumerated() {
            try harness.execute(ddl)
            try harness.execute(
                "INSERT INTO t (id, v) VALUES (\(100 + index), 'after \(index)'); UPDATE t SET v = v || '+' WHERE id = \(index + 1)"
            )
            if captureEach || index == steps.count / 2 { try harness.capture(filter: filter) }
        }
        try await writer.value
        try harness.capture(filter: filter)
    }

    @Test func addColumnWithAndWithoutDefault() async throws {
        let harness = try await CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try await Self.evolve(
            ["ALTER TABLE t ADD COLUMN a int DEFAULT 7", "ALTER TABLE t ADD COLUMN b text"], harness: harness)
        let schemas = try Self.verify(harness, versions: 3)
        #expect(schemas[1].change?["added"].map(Self.names) == ["a"])
        #expect((schemas[1].change?["added"] as? [[String: Any]])?.first?["default"] as? String == "7")
        #expect(schemas[2].change?["added"].map(Self.names) == ["b"])
    }

    @Test func dropRetypeAndRename() async throws {
        let harness = try await CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try await Self.evolve(
            [
                "ALTER TABLE t ALTER COLUMN n TYPE bigint", "ALTER TABLE t RENAME COLUMN n TO m",
                "ALTER TABLE t DROP COLUMN m",
            ], harness: harness)
        let schemas = try Self.verify(harness, versions: 4)
        let retyped = try #require(schemas[1].change?["retyped"] as? [[String: Any]])
        #expect(retyped.first?["column"] as? String == "n")
        #expect(retyped.first?["from"] as? String == "integer")
        #expect(retyped.first?["to"] as? String == "bigint")
        let renamed = try #require(schemas[2].change?["renamed"] as? [[String: Any]])
        #expect(renamed.first?["from"] as? String == "n")
        #expect(renamed.first?["to"] as? String == "m")
        #expect(schemas[3].change?["dropped"] as? [String] == ["m"])
    }

    @Test func dropAndAddThePrimaryKey() async throws {
        let harness = try await CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try await Self.evolve(
            ["ALTER TABLE t DROP CONSTRAINT t_pkey", "ALTER TABLE t ADD PRIMARY KEY (id)"], harness: harness,
            captureEach: true)
        let schemas = try Self.verify(harness, versions: 3)
        let dropped = try #require(schemas[1].change?["key_changed"] as? [String: Any])
        #expect(dropped["from"] as? [String] == ["id"])
        let added = try #require(schemas[2].change?["key_changed"] as? [String: Any])
        #expect(added["to"] as? [String] == ["id"])
    }

    @Test func restartBetweenDDLAndTheNextChangeAddsNoVersion() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture(filter: Self.filter)
        try harness.execute("UPDATE t SET v = 'x' WHERE id = 1")
        try harness.capture(filter: Self.filter)
        try harness.execute("ALTER TABLE t ADD COLUMN c int")
        try harness.capture(filter: Self.filter)
        try harness.execute("UPDATE t SET v = 'y' WHERE id = 2")
        try harness.capture(filter: Self.filter)
        try harness.execute("INSERT INTO t (id, c) VALUES (500, 5)")
        try harness.capture(filter: Self.filter)
        _ = try Self.verify(harness, versions: 2)

        let reader = try EventStoreReader(path: harness.storePath)
        defer { reader.close() }
        let history = try reader.tableSchemaHistory(schema: "public", table: "t")
        #expect(history.map(\.version) == [1, 2])
        #expect(history[1].lsn > history[0].lsn)
        #expect(try reader.latestTableSchemas().map(\.version) == [2])
    }

    @Test func aFilteredOutTableAnnouncesNothing() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture(filter: Self.filter)
        try harness.execute(
            """
            ALTER TABLE skipped ADD COLUMN y int; INSERT INTO skipped VALUES (1, 1, 1);
            ALTER TABLE t ADD COLUMN z int; INSERT INTO t (id, z) VALUES (600, 6);
            """)
        try harness.capture(filter: Self.filter)
        let events = try harness.allEvents()
        #expect(events.allSatisfy { $0.table == "t" })
        #expect(events.filter { $0.op == "s" }.count == 2)
        _ = try Self.verify(harness, versions: 2)
    }

    @Test func truncateCarriesItsOptions() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture(filter: Self.filter)
        try harness.execute("TRUNCATE t RESTART IDENTITY CASCADE")
        try harness.execute("TRUNCATE t")
        try harness.capture(filter: Self.filter)
        let truncates = try harness.allEvents().filter { $0.op == "t" }
        #expect(truncates.count == 2)
        #expect(truncates.map { $0.json["cascade"] as? Bool } == [true, false])
        #expect(truncates.map { $0.json["restart_identity"] as? Bool } == [true, false])
        #expect(truncates.allSatisfy { $0.source["schema_version"] as? Int == 1 })
    }

    // MARK: - Checks

    struct Announced {
        let version: Int
        let columns: [[String: Any]]
        let change: [String: Any]?
    }

    static func names(_ value: Any) -> [String] {
        (value as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
    }

    /// Checks the order and versions of the events of `t`, then applies them
    /// to a copy and compares it with the source; returns the `s` events.
    @discardableResult
    static func verify(
        _ harness: CaptureHarness, versions: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Announced] {
        var announced: [Announced] = []
        var columns: [String] = []
        var rows: [Int: [String: Any]] = [:]
        for event in try harness.allEvents() where event.table == "t" {
            let version = event.source["schema_version"] as? Int
            if event.op == "s" {
                let schema = try #require(event.json["schema"] as? [String: Any])
                #expect(
                    version == announced.count + 1, "s events number versions 1, 2, …", sourceLocation: sourceLocation)
                #expect(schema["version"] as? Int == version, sourceLocation: sourceLocation)
                let list = try #require(schema["columns"] as? [[String: Any]])
                let change = event.json["change"] as? [String: Any]
                #expect(
                    (change == nil) == announced.isEmpty, "only the first version has no change",
                    sourceLocation: sourceLocation)
                apply(change, to: &rows)
                columns = list.compactMap { $0["name"] as? String }
                announced.append(Announced(version: version ?? 0, columns: list, change: change))
                continue
            }
            #expect(
                version != nil && version == announced.count,
                "\(event.id) \(event.op) has version \(String(describing: version)) after \(announced.count) s events",
                sourceLocation: sourceLocation)
            switch event.op {
            case "c", "r", "u":
                if let after = event.after, let id = intValue(after["id"]) {
                    #expect(
                        Set(after.keys) == Set(columns), "\(event.id) has the announced columns",
                        sourceLocation: sourceLocation)
                    rows[id] = after
                }
            case "d":
                if let id = intValue(event.before?["id"]) { rows[id] = nil }
            case "t":
                rows = [:]
            case "m":
                // A DDL command caught by DDL capture: its version was announced before it.
                break
            default:
                Issue.record("unexpected op \(event.op)", sourceLocation: sourceLocation)
            }
        }
        #expect(announced.count == versions, sourceLocation: sourceLocation)

        let catalog = try harness.execute(
            """
            SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
            WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
            """)
        let last = try #require(announced.last, sourceLocation: sourceLocation)
        #expect(
            last.columns.map { $0["name"] as? String } == catalog.rows.map { $0[0] }, sourceLocation: sourceLocation)
        #expect(
            last.columns.map { $0["type"] as? String } == catalog.rows.map { $0[1] }, sourceLocation: sourceLocation)

        let source = try harness.execute("SELECT row_to_json(t)::text AS row FROM t").rows.compactMap {
            row -> [String: Any]? in
            guard let text = row[0] else { return nil }
            return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        }
        #expect(rows.count == source.count, sourceLocation: sourceLocation)
        for row in source {
            let id = try #require(intValue(row["id"]))
            #expect(
                rows[id].map { NSDictionary(dictionary: $0).isEqual(to: row) } == true,
                "row \(id): copy \(String(describing: rows[id])) source \(row)", sourceLocation: sourceLocation)
        }
        return announced
    }

    /// What a consumer does with an `s` event's change: renames, drops, and
    /// fills added columns of the rows it holds with their default (here
    /// integer literals or null).
    static func apply(_ change: [String: Any]?, to rows: inout [Int: [String: Any]]) {
        guard let change else { return }
        for rename in change["renamed"] as? [[String: Any]] ?? [] {
            guard let from = rename["from"] as? String, let to = rename["to"] as? String else { continue }
            for id in rows.keys { rows[id]![to] = rows[id]!.removeValue(forKey: from) }
        }
        for name in change["dropped"] as? [String] ?? [] {
            for id in rows.keys { rows[id]![name] = nil }
        }
        for column in change["added"] as? [[String: Any]] ?? [] {
            guard let name = column["name"] as? String else { continue }
            let value: Any = (column["default"] as? String).flatMap { Int($0) }.map { NSNumber(value: $0) } ?? NSNull()
            for id in rows.keys { rows[id]![name] = value }
        }
    }
}
