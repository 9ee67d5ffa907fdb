// End to end: every operation, in commit order, with the envelope of DESIGN §5.

import CDC
import Foundation
import PipelineTestSupport
import PostgresWire
import Testing

@Suite struct OperationsTests {
    static let setup = """
        CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2));
        CREATE TABLE other (id int PRIMARY KEY, label text);
        ALTER TABLE items REPLICA IDENTITY FULL;
        ALTER TABLE other REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE items, other;
        """

    @Test func capturesInsertsUpdatesDeletesAndTruncatesInCommitOrder() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()  // creates the slot

        try harness.execute(
            """
            BEGIN;
            INSERT INTO items VALUES (1, 'pen', 1.50), (2, 'ink', 7.25);
            UPDATE items SET price = 2.00 WHERE id = 1;
            COMMIT;
            DELETE FROM items WHERE id = 2;
            INSERT INTO other VALUES (10, 'x');
            TRUNCATE items, other;
            """)
        try harness.capture()

        let events = try harness.events()
        #expect(events.map(\.op) == ["c", "c", "u", "d", "c", "t", "t"])
        // The snapshot announced both tables (two `s` events) before the changes.
        #expect(try harness.allEvents().map(\.sequence) == Array(1...9))

        // Ids are <commit LSN>:<ordinal>, ordinals count from 0 per transaction.
        let first = events[0]
        let commitLSN = try #require(first.source["commit_lsn"] as? String)
        #expect(events.prefix(3).map(\.id) == ["\(commitLSN):0", "\(commitLSN):1", "\(commitLSN):2"])
        #expect(first.json["id"] as? String == first.id)
        #expect(events[3].id.hasSuffix(":0") && events[3].id != first.id)

        #expect(first.source["database"] as? String == harness.database)
        #expect(first.source["schema"] as? String == "public")
        #expect(first.table == "items")
        #expect(first.source["snapshot"] as? Bool == false)
        #expect((first.source["txid"] as? NSNumber)?.intValue ?? 0 > 0)
        #expect((first.source["commit_ts"] as? String)?.hasSuffix("Z") == true)
        #expect(LSN(first.source["lsn"] as? String ?? "") != nil)
        #expect((first.json["ts_ms"] as? NSNumber)?.int64Value ?? 0 > 1_700_000_000_000)

        #expect(first.key?["id"] as? Int == 1)
        #expect(first.after?["name"] as? String == "pen")
        #expect(first.after?["price"] as? String == "1.50")
        #expect(first.json["before"] is NSNull)

        let update = events[2]
        #expect(update.before?["price"] as? String == "1.50")
        #expect(update.after?["price"] as? String == "2.00")
        #expect(update.key?["id"] as? Int == 1)

        let delete = events[3]
        #expect(delete.before?["name"] as? String == "ink")
        #expect(delete.json["after"] is NSNull)
        #expect(delete.key?["id"] as? Int == 2)

        #expect(Set(events[5...].map(\.table)) == ["items", "other"])
        #expect(events[5].source["commit_lsn"] as? String == events[6].source["commit_lsn"] as? String)
    }

    @Test func keyUsesThePrimaryKeyEvenWithReplicaIdentityFull() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE pairs (a int, b text, payload text, PRIMARY KEY (b, a));
                ALTER TABLE pairs REPLICA IDENTITY FULL;
                CREATE TABLE nokey (x int, y int);
                ALTER TABLE nokey REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE pairs, nokey;
                """)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute("INSERT INTO pairs VALUES (1, 'one', 'p'); INSERT INTO nokey VALUES (5, 6);")
        try harness.capture()
        let events = try harness.events()
        #expect(events.count == 2)
        let key = try #require(events[0].key)
        #expect(key.count == 2 && key["a"] as? Int == 1 && key["b"] as? String == "one")
        // Without a primary key, REPLICA IDENTITY FULL makes the whole row the key.
        #expect(events[1].key?.count == 2)
    }

    @Test func largeTransactionKeepsEveryChangeInOrder() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE bulk (id int PRIMARY KEY, v int);
                ALTER TABLE bulk REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE bulk;
                """)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute(
            """
            BEGIN;
            INSERT INTO bulk SELECT g, 0 FROM generate_series(1, 6000) g;
            UPDATE bulk SET v = 1 WHERE id % 2 = 0;
            DELETE FROM bulk WHERE id % 3 = 0;
            COMMIT;
            """)
        try harness.capture()
        let events = try harness.events()
        #expect(events.count == 6000 + 3000 + 2000)
        let commit = Set(events.map { $0.source["commit_lsn"] as? String ?? "" })
        #expect(commit.count == 1)
        let ordinals: [String] = events.map { event in String(event.id.split(separator: ":").last ?? "") }
        let expectedOrdinals: [String] = (0..<11_000).map { String($0) }
        let inOrder = ordinals == expectedOrdinals
        #expect(inOrder, "ordinals are not 0..<11000 in order")
        let rows = rebuild(events, table: "bulk")
        let expected = try harness.execute("SELECT count(*) AS n, sum(v) AS s FROM bulk")
        #expect(rows.count == Int(expected.value("n") ?? ""))
        #expect(rows.values.reduce(0) { $0 + (intValue($1["v"]) ?? 0) } == Int(expected.value("s") ?? ""))
    }

    @Test func filtersSelectExactlyTheChosenTables() async throws {
        let harness = try await CaptureHarness(
            setup: """
                CREATE SCHEMA sales;
                CREATE TABLE public.users (id int PRIMARY KEY);
                CREATE TABLE public.audit_log (id int PRIMARY KEY);
                CREATE TABLE sales.orders (id int PRIMARY KEY);
                CREATE TABLE sales.users (id int PRIMARY KEY);
                CREATE PUBLICATION popsink FOR ALL TABLES;
                """)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute(
            """
            INSERT INTO public.users VALUES (1); INSERT INTO public.audit_log VALUES (2);
            INSERT INTO sales.orders VALUES (3); INSERT INTO sales.users VALUES (4);
            """)

        func captured(_ filter: TableFilter) async throws -> Set<String> {
            harness.removeDataDirectory()
            try await harness.dropSlot()
            // A fresh slot sees only later writes: write again after creating it.
            try harness.capture(filter: filter)
            try harness.execute(
                """
                UPDATE public.users SET id = id; UPDATE public.audit_log SET id = id;
                UPDATE sales.orders SET id = id; UPDATE sales.users SET id = id;
                """)
            try harness.capture(filter: filter)
            return Set(try harness.events().map { "\($0.source["schema"] as? String ?? "").\($0.table)" })
        }

        #expect(try await captured(.all) == ["public.users", "public.audit_log", "sales.orders", "sales.users"])
        #expect(try await captured(TableFilter(includeSchemas: ["sales"])) == ["sales.orders", "sales.users"])
        #expect(
            try await captured(TableFilter(excludeTables: ["audit_*"])) == [
                "public.users", "sales.orders", "sales.users",
            ])
        #expect(try await captured(TableFilter(includeTables: ["users"])) == ["public.users", "sales.users"])
        #expect(
            try await captured(TableFilter(excludeSchemas: ["sales"], includeTables: ["public.*"]))
                == ["public.users", "public.audit_log"])
        #expect(
            try await captured(TableFilter(excludeSchemas: ["s*"], excludeTables: ["public.audit_log"])) == [
                "public.users"
            ])
    }

    @Test func unchangedToastedValuesComeFromTheOldImageOrAreListed() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
                ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
                ALTER TABLE docs REPLICA IDENTITY FULL;
                CREATE TABLE notes (id int PRIMARY KEY, title text, body text);
                ALTER TABLE notes ALTER COLUMN body SET STORAGE EXTERNAL;
                CREATE PUBLICATION popsink FOR TABLE docs, notes;
                """)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute(
            """
            INSERT INTO docs SELECT 1, 'a', string_agg(md5(g::text), '') FROM generate_series(1, 400) g;
            INSERT INTO notes SELECT 1, 'a', string_agg(md5(g::text), '') FROM generate_series(1, 400) g;
            UPDATE docs SET title = 'b';
            UPDATE notes SET title = 'b';
            """)
        try harness.capture()
        let body = try #require(try harness.execute("SELECT body FROM docs").value("body"))
        let updates = try harness.events().filter { $0.op == "u" }
        #expect(updates.count == 2)
        let full = try #require(updates.first { $0.table == "docs" })
        #expect(full.after?["body"] as? String == body)
        #expect(full.after?["title"] as? String == "b")
        #expect(full.json["unchanged_toast"] == nil)
        // Default replica identity: no old image, so the column is listed, not nulled.
        let listed = try #require(updates.first { $0.table == "notes" })
        #expect(listed.after?["body"] == nil)
        #expect(listed.json["unchanged_toast"] as? [String] == ["body"])
        #expect(listed.after?["title"] as? String == "b")
    }
}
