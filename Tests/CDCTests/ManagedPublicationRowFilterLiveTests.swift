// Row filters in a managed publication against the throwaway Postgres
// (PostgreSQL 15+): only the changes of matching rows leave the server, and
// the load and backfills read only matching rows; an
// UPDATE that makes a row stop matching arrives as a delete of the old row,
// one that makes it match as an insert; a changed filter takes effect at the
// next session, and the same filter changes nothing in the catalog; a filter
// outside a table's replica identity is refused before Postgres accepts it
// (which would make the table's own UPDATEs fail); an existing publication
// refuses row filters; and a managed publication's name taken by a
// publication FOR ALL TABLES is a clear error with its remedy.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@Suite(.serialized) struct ManagedPublicationRowFilterLiveTests {
    static func region(_ value: String) -> RowCondition {
        RowCondition([RowPredicate("region", .equal, .string(value))])
    }

    /// The row filter of each table of the publication, as Postgres renders it, and its catalog row's xmin.
    static func rowFilters(_ harness: CaptureHarness, _ publication: String) throws -> [String: String] {
        var filters: [String: String] = [:]
        for row in try harness.execute(
            """
            SELECT c.relname, coalesce(pg_get_expr(pr.prqual, pr.prrelid), '') || ' @' || pr.xmin
            FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
            JOIN pg_class c ON c.oid = pr.prrelid WHERE p.pubname = '\(publication)'
            """
        ).rows {
            filters[row[0]!] = row[1]!
        }
        return filters
    }

    /// How a bounded run of `config` failed; nil (recorded as `what` accepted) when it did not.
    static func failure(of config: PipelineConfig, _ what: String) -> PipelineError? {
        guard case .failed(let error) = PipelineWorker(config: config).run() else {
            Issue.record("\(what) was accepted")
            return nil
        }
        return error
    }

    /// The stream's change events of table `o` (not the load's), as `op id region`.
    static func changes(_ harness: CaptureHarness) throws -> [String] {
        try harness.events().filter { $0.table == "o" && $0.op != "r" }.map { event in
            let image = event.op == "d" ? event.before : event.after
            return "\(event.op) \(intValue(image?["id"]) ?? -1) \(image?["region"] as? String ?? "?")"
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func onlyMatchingRowsAreSentAndAChangedFilterTakesEffect() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE o (id int PRIMARY KEY, region text NOT NULL, v int NOT NULL DEFAULT 0);
                ALTER TABLE o REPLICA IDENTITY FULL;
                INSERT INTO o SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 0 FROM generate_series(1, 10) g;
                """)
        defer { harness.cleanUp() }
        let publication = PipelineConfig.defaultManagedPublication(pipelineID: harness.pipelineID)
        var config = try ManagedPublicationLiveTests.managedConfig(
            harness, filter: TableFilter(includeTables: ["o"], rows: ["public.o": Self.region("eu")]))
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.loaded(harness, "o") == [2, 4, 6, 8, 10], "the load reads the matching rows only")
        let first = try Self.rowFilters(harness, publication)
        #expect(first["o"]?.hasPrefix("(region = 'eu'::text) @") == true, "\(first)")

        try harness.execute(
            """
            INSERT INTO o VALUES (100, 'eu'), (101, 'us');
            UPDATE o SET region = 'us' WHERE id = 100;
            UPDATE o SET region = 'eu' WHERE id = 101;
            UPDATE o SET v = 1 WHERE id = 2;
            UPDATE o SET v = 1 WHERE id = 3;
            DELETE FROM o WHERE id IN (4, 5);
            """)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(
            try Self.changes(harness) == ["c 100 eu", "d 100 eu", "c 101 eu", "u 2 eu", "d 4 eu"],
            "leaving the filter is a delete of the old row, entering it an insert of the new one")

        // The same filter again: nothing is written to the catalog (same xmin).
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.rowFilters(harness, publication) == first)

        // Another filter: set at the next session, for the changes after it.
        config.filter.rows = [
            "public.o": RowCondition([
                RowPredicate(column: "region", op: .in, values: [.string("us"), .string("it's")])
            ])
        ]
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        let second = try Self.rowFilters(harness, publication)
        #expect(
            second["o"]?.contains("'us'::text") == true && second["o"]?.contains("'it''s'::text") == true, "\(second)")
        try harness.execute("INSERT INTO o VALUES (200, 'eu'), (201, 'us'), (202, 'it''s')")
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(Array(try Self.changes(harness).suffix(2)) == ["c 201 us", "c 202 it's"])

        // No filter: every change again.
        config.filter.rows = [:]
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.rowFilters(harness, publication)["o"]?.hasPrefix(" @") == true)
        try harness.execute("INSERT INTO o VALUES (300, 'eu')")
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.changes(harness).last == "c 300 eu")

        // A table that starts to be captured is backfilled with its filter.
        try harness.execute(
            """
            CREATE TABLE p (id int PRIMARY KEY, region text NOT NULL);
            ALTER TABLE p REPLICA IDENTITY FULL;
            INSERT INTO p SELECT g, CASE WHEN g % 3 = 0 THEN 'eu' ELSE 'us' END FROM generate_series(1, 30) g;
            """)
        config.filter = TableFilter(includeTables: ["o", "p"], rows: ["public.p": Self.region("eu")])
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.loaded(harness, "p") == Array(stride(from: 3, through: 30, by: 3)))
    }

    /// The ids of the `r` events of `table`, sorted.
    static func loaded(_ harness: CaptureHarness, _ table: String) throws -> [Int] {
        try harness.events().filter { $0.table == table && $0.op == "r" }.compactMap { intValue($0.after?["id"]) }
            .sorted()
    }

    @Test(.timeLimit(.minutes(3)))
    func aFilterOutsideTheReplicaIdentityIsRefusedBeforeItBreaksTheSource() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE k (id int PRIMARY KEY, region text NOT NULL);
                INSERT INTO k VALUES (1, 'eu');
                """)
        defer { harness.cleanUp() }
        let publication = PipelineConfig.defaultManagedPublication(pipelineID: harness.pipelineID)
        var config = try ManagedPublicationLiveTests.managedConfig(
            harness, filter: TableFilter(includeTables: ["k"], rows: ["public.k": Self.region("eu")]))
        guard let error = Self.failure(of: config, "a row filter outside the replica identity") else { return }
        #expect(error.code == .invalidConfiguration && !error.isRetryable)
        #expect(error.message.contains(#"reads "region", outside its replica identity"#), "\(error)")
        #expect(error.remediation?.contains(#"ALTER TABLE "public"."k" REPLICA IDENTITY FULL;"#) == true, "\(error)")
        #expect(try Self.rowFilters(harness, publication).isEmpty, "nothing was published")
        try harness.execute("UPDATE k SET region = 'us' WHERE id = 1")

        // On the key it is allowed; so is any column once the identity is FULL.
        config.filter.rows = ["public.k": RowCondition([RowPredicate("id", .greater, .number("0"))])]
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        try harness.execute("ALTER TABLE k REPLICA IDENTITY FULL")
        config.filter.rows = ["public.k": Self.region("eu")]
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.rowFilters(harness, publication)["k"]?.hasPrefix("(region = 'eu'::text)") == true)
        try harness.execute("UPDATE k SET region = 'eu' WHERE id = 1")

        // An unknown column names itself and the table.
        config.filter.rows = ["public.k": RowCondition([RowPredicate("nope", .equal, .number("1"))])]
        guard let unknown = Self.failure(of: config, "a row filter on an unknown column") else { return }
        #expect(unknown.message.contains(#"public.k has no column "nope"; its columns are id, region"#), "\(unknown)")
    }

    @Test(.timeLimit(.minutes(3)))
    func anExistingPublicationRefusesRowFilters() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE o (id int PRIMARY KEY, region text);
                ALTER TABLE o REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE o;
                """)
        defer { harness.cleanUp() }
        let config = try harness.config(filter: TableFilter(rows: ["public.o": Self.region("eu")]))
        guard let error = Self.failure(of: config, "a row filter with an existing publication") else { return }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains("row filters need a managed publication"), "\(error)")
    }

    @Test(.timeLimit(.minutes(3)))
    func aPublicationForAllTablesUnderTheManagedNameIsAClearError() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE t (id int PRIMARY KEY);
                ALTER TABLE t REPLICA IDENTITY FULL;
                """)
        defer { harness.cleanUp() }
        let publication = PipelineConfig.defaultManagedPublication(pipelineID: harness.pipelineID)
        try harness.execute("CREATE PUBLICATION \(publication) FOR ALL TABLES")
        let config = try ManagedPublicationLiveTests.managedConfig(harness, filter: TableFilter(includeTables: ["t"]))
        guard let error = Self.failure(of: config, "a managed publication FOR ALL TABLES") else { return }
        #expect(error.code == .invalidConfiguration && !error.isRetryable)
        #expect(error.message.contains("exists and was created FOR ALL TABLES"), "\(error)")
        #expect(error.remediation?.contains(#"DROP PUBLICATION "\#(publication)";"#) == true, "\(error)")

        try harness.execute("DROP PUBLICATION \(publication)")
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try ManagedPublicationLiveTests.published(harness, publication) == ["public.t"])
    }
}
