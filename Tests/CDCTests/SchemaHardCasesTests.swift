// The hard cases of the event contract against a real Postgres: partitioned
// tables with and without publish_via_partition_root (a schema change on
// the root, a partition attached while streaming), stored generated columns
// (the load and the stream agree), TOASTed values left unchanged across a
// schema change (with and without REPLICA IDENTITY FULL), and types whose
// definition changes (an enum gains a value, a domain's constraint changes,
// int to bigint, text to jsonb), each with and without DDL capture where it matters.

import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@testable import CDC

@Suite struct SchemaHardCasesTests {
    static func install(_ harness: CaptureHarness) throws {
        try DDLCapture.install(on: harness.postgres.connect(database: harness.database))
    }

    /// `m`, partitioned by region into `m_eu` and `m_us`, with 40 rows.
    static let partitionedTable = """
        CREATE TABLE m (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
        CREATE TABLE m_eu PARTITION OF m FOR VALUES IN ('eu');
        CREATE TABLE m_us PARTITION OF m FOR VALUES IN ('us');
        ALTER TABLE m REPLICA IDENTITY FULL;
        ALTER TABLE m_eu REPLICA IDENTITY FULL;
        ALTER TABLE m_us REPLICA IDENTITY FULL;
        INSERT INTO m SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'r' || g FROM generate_series(1, 40) g;

        """

    static func partitioned(viaRoot: Bool) -> String {
        partitionedTable + "CREATE PUBLICATION popsink FOR TABLE m WITH (publish_via_partition_root = \(viaRoot));"
    }

    /// Through the root, events are the root's: loaded once, one version
    /// history for the table, a partition attached while streaming included.
    @Test(arguments: [false, true])
    func partitionsPublishedThroughTheirRoot(ddlCapture: Bool) throws {
        let harness = try CaptureHarness(setup: Self.partitioned(viaRoot: true))
        defer { harness.cleanUp() }
        if ddlCapture { try Self.install(harness) }
        try harness.capture()
        try harness.execute(
            """
            ALTER TABLE m ADD COLUMN x int DEFAULT 1;
            INSERT INTO m VALUES (100, 'eu', 'new', 2);
            CREATE TABLE m_ap (LIKE m INCLUDING ALL);
            ALTER TABLE m_ap REPLICA IDENTITY FULL;
            ALTER TABLE m ATTACH PARTITION m_ap FOR VALUES IN ('ap');
            INSERT INTO m VALUES (101, 'ap', 'attached', 3);
            UPDATE m SET v = 'moved' WHERE id = 2;
            """)
        try harness.capture()
        let events = try harness.allEvents()
        #expect(Set(events.map(\.table)) == ["m"], "every event is the root's")
        let loaded = events.filter { $0.op == "r" }.compactMap { intValue($0.after?["id"]) }
        #expect(loaded.sorted() == Array(1...40), "each row loaded once")
        let reader = try EventStoreReader(path: harness.storePath)
        defer { reader.close() }
        #expect(try reader.latestTableSchemas().map { "\($0.table) \($0.version)" } == ["m 2"])
        let changes = events.filter { $0.op == "c" || $0.op == "u" }
        #expect(changes.map { $0.source["schema_version"] as? Int } == [2, 2, 2])
        #expect(changes.map { $0.after?["region"] as? String } == ["eu", "ap", "eu"])
        #expect(changes.allSatisfy { $0.after?.keys.sorted() == ["id", "region", "v", "x"] })
        // DDL capture sees the root's ALTER (and the partitions' own commands
        // are not the root's), so it adds no version of its own.
        #expect(events.filter { $0.op == "s" }.count == 2)
    }

    /// Without the root, each partition is a table of its own with its own
    /// versions; the root's ALTER reaches each with its next change.
    @Test func partitionsPublishedAsThemselves() throws {
        let harness = try CaptureHarness(setup: Self.partitioned(viaRoot: false))
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute(
            """
            ALTER TABLE m ADD COLUMN x int DEFAULT 1;
            INSERT INTO m VALUES (100, 'eu', 'new', 2), (101, 'us', 'new', 3);
            """)
        try harness.capture()
        let events = try harness.allEvents()
        #expect(Set(events.map(\.table)) == ["m_eu", "m_us"])
        let loaded = events.filter { $0.op == "r" }.compactMap { intValue($0.after?["id"]) }
        #expect(loaded.sorted() == Array(1...40), "each row loaded once")
        let reader = try EventStoreReader(path: harness.storePath)
        defer { reader.close() }
        #expect(try reader.latestTableSchemas().map { "\($0.table) \($0.version)" } == ["m_eu 2", "m_us 2"])
        #expect(events.filter { $0.op == "c" }.allSatisfy { $0.source["schema_version"] as? Int == 2 })
    }

    /// pgoutput leaves stored generated columns out (before PostgreSQL 18's
    /// publish_generated_columns), and so does the load: both carry the same
    /// columns, and adding a generated column makes no version.
    @Test(arguments: [false, true])
    func generatedColumnsAreLeftOutByTheLoadAndTheStreamAlike(ddlCapture: Bool) throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE g (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED);
                ALTER TABLE g REPLICA IDENTITY FULL;
                INSERT INTO g (id, a) VALUES (1, 10), (2, 20);
                CREATE PUBLICATION popsink FOR TABLE g;
                """)
        defer { harness.cleanUp() }
        if ddlCapture { try Self.install(harness) }
        try harness.capture()
        try harness.execute(
            """
            INSERT INTO g (id, a) VALUES (3, 30);
            ALTER TABLE g ADD COLUMN tripled int GENERATED ALWAYS AS (a * 3) STORED;
            UPDATE g SET a = 11 WHERE id = 1;
            """)
        try harness.capture()
        let events = try harness.allEvents()
        let rows = events.filter { ["r", "c", "u"].contains($0.op) }
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { $0.after?.keys.sorted() == ["a", "id"] }, "\(rows.map { $0.after ?? [:] })")
        #expect(events.filter { $0.op == "s" }.count == 1, "a generated column makes no version")
        #expect(events.filter { $0.op == "m" }.count == (ddlCapture ? 1 : 0))
        let columns = (events.first { $0.op == "s" }?.json["schema"] as? [String: Any])?["columns"] as? [[String: Any]]
        #expect(columns?.map { $0["name"] as? String } == ["id", "a"])
    }

    /// 12.8 kB that compresses to well under 2 kB: stored compressed, inline.
    static let big = "repeat(md5(g::text), 400)"
    /// 9.6 kB of hex digits, random: compressed or not, too big to stay inline.
    static let incompressible =
        "(SELECT string_agg(md5(random()::text || i::text), '') FROM generate_series(1, 300) i)"

    /// A TOASTed value that an update does not touch, after a schema change:
    /// with REPLICA IDENTITY FULL it is in `after` whole; without, it is in
    /// `unchanged_toast` and never a wrong null.
    @Test(arguments: [true, false])
    func unchangedToastAcrossASchemaChange(fullIdentity: Bool) throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE big (id int PRIMARY KEY, n int, inline text, packed text, outside text, raw bytea, doc jsonb);
                ALTER TABLE big ALTER COLUMN outside SET STORAGE EXTERNAL;
                \(fullIdentity ? "ALTER TABLE big REPLICA IDENTITY FULL;" : "")
                CREATE PUBLICATION popsink FOR TABLE big;
                """)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute(
            """
            INSERT INTO big SELECT g, g, 'small', \(Self.big), \(Self.incompressible),
                   convert_to(\(Self.incompressible), 'UTF8'),
                   jsonb_build_object('k', \(Self.incompressible))
            FROM generate_series(1, 3) g;
            ALTER TABLE big ADD COLUMN extra int DEFAULT 5;
            UPDATE big SET n = n + 100;
            """)
        try harness.capture()
        let source = try harness.execute(
            "SELECT id, packed, outside, encode(raw, 'base64'), doc::text, pg_column_size(packed) < octet_length(packed) FROM big ORDER BY id"
        )
        #expect(source.rows.allSatisfy { $0[5] == "t" }, "packed is stored compressed")
        let updates = try harness.allEvents().filter { $0.op == "u" }
        #expect(updates.count == 3)
        #expect(updates.allSatisfy { $0.source["schema_version"] as? Int == 2 })
        for (update, row) in zip(updates, source.rows) {
            let after = try #require(update.after)
            #expect(after["n"] as? Int == intValue(row[0])! + 100)
            #expect(after["extra"] as? Int == 5)
            #expect(after["inline"] as? String == "small")
            let unchanged = update.json["unchanged_toast"] as? [String] ?? []
            if fullIdentity {
                #expect(unchanged.isEmpty)
                #expect(after["packed"] as? String == row[1])
                #expect(after["outside"] as? String == row[2])
                #expect(
                    (after["raw"] as? String)?.replacingOccurrences(of: "\n", with: "")
                        == row[3]?.replacingOccurrences(of: "\n", with: ""))
                #expect(after["doc"] as? [String: Any] != nil)
            } else {
                // A value compressed inline is in the row itself: only
                // values stored out of line can be left out of it.
                #expect(after["packed"] as? String == row[1])
                #expect(Set(unchanged) == ["outside", "raw", "doc"], "\(unchanged)")
                for column in unchanged { #expect(after[column] == nil, "\(column) is not sent as a value") }
            }
        }
    }

    /// Types whose definition changes: an enum value added and a domain's
    /// constraint replaced make no version and values keep their form; int
    /// to bigint stays a number, text to jsonb becomes embedded JSON.
    @Test(arguments: [false, true])
    func typesWhoseDefinitionChanges(ddlCapture: Bool) throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TYPE mood AS ENUM ('sad', 'ok');
                CREATE DOMAIN positive AS int CHECK (VALUE > 0);
                CREATE TABLE ty (id int PRIMARY KEY, feeling mood, amount positive, n int, doc text);
                ALTER TABLE ty REPLICA IDENTITY FULL;
                INSERT INTO ty VALUES (1, 'ok', 5, 2147483647, '{"a": 1}');
                CREATE PUBLICATION popsink FOR TABLE ty;
                """)
        defer { harness.cleanUp() }
        if ddlCapture { try Self.install(harness) }
        try harness.capture()
        try harness.execute("ALTER TYPE mood ADD VALUE 'happy'")
        try harness.execute(
            """
            ALTER DOMAIN positive DROP CONSTRAINT positive_check;
            ALTER DOMAIN positive ADD CONSTRAINT positive_small CHECK (VALUE > 0 AND VALUE < 1000);
            INSERT INTO ty VALUES (2, 'happy', 999, 7, '[1, 2]');
            ALTER TABLE ty ALTER COLUMN n TYPE bigint;
            INSERT INTO ty VALUES (3, 'sad', 1, 9223372036854775807, '"text"');
            ALTER TABLE ty ALTER COLUMN doc TYPE jsonb USING doc::jsonb;
            INSERT INTO ty VALUES (4, 'happy', 2, -1, '{"b": [true, null]}');
            UPDATE ty SET amount = 3 WHERE id = 1;
            """)
        try harness.capture()
        let events = try harness.allEvents()
        let versions = events.filter { $0.op == "s" }.compactMap {
            (($0.json["change"] as? [String: Any])?["retyped"] as? [[String: Any]])?.map {
                "\($0["column"]!) \($0["from"]!) -> \($0["to"]!)"
            }
        }
        #expect(versions == [["n integer -> bigint"], ["doc text -> jsonb"]])
        let rows = events.filter { $0.op == "r" || $0.op == "c" || $0.op == "u" }
        #expect(rows.map { $0.source["schema_version"] as? Int } == [1, 1, 2, 3, 3])
        #expect(rows.map { $0.after?["feeling"] as? String } == ["ok", "happy", "sad", "happy", "ok"])
        #expect(rows.map { $0.after?["amount"] as? Int } == [5, 999, 1, 2, 3])
        let raw = try harness.allEventBodies()
        #expect(raw.contains { $0.contains(#""n":9223372036854775807"#) }, "bigint stays an exact JSON number")
        #expect(rows[0].after?["doc"] as? String == #"{"a": 1}"#, "text before")
        #expect((rows[3].after?["doc"] as? [String: Any])?["b"] as? [Any] != nil, "embedded JSON after")
        #expect((rows[4].after?["doc"] as? [String: Any])?["a"] as? Int == 1, "old rows rewritten to jsonb")
        #expect(events.filter { $0.op == "m" }.count == (ddlCapture ? 2 : 0), "only the table's two ALTERs")
    }
}

extension CaptureHarness {
    /// Every stored event's JSON text, for checks of exact number forms.
    func allEventBodies() throws -> [String] {
        let reader = try EventStoreReader(path: storePath)
        defer { reader.close() }
        var bodies: [String] = []
        var cursor: Int64 = 0
        while true {
            let page = try reader.events(after: cursor, limit: 10_000)
            guard let last = page.last else { return bodies }
            bodies += page.map { String(decoding: $0.body, as: UTF8.self) }
            cursor = last.sequence
        }
    }
}
