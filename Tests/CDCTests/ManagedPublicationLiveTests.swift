// A managed publication against the throwaway Postgres: it holds exactly the
// tables the filters select, so the walsender no longer sends the changes of
// the others (counted in bytes on the wire, against the same workload read
// through a publication of every table); it follows filter changes in both
// directions with nothing lost; a table created in an included schema joins
// it while the pipeline runs; and a role that may not create it or own the
// tables gets a clear error with the SQLSTATE.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresReplication
import PostgresTestSupport
import SourceCheck
import Testing

@Suite(.serialized) struct ManagedPublicationLiveTests {
    static func managedConfig(_ harness: CaptureHarness, filter: TableFilter, endPosition: EndPosition? = .current)
        throws -> PipelineConfig
    {
        var config = try harness.config(
            endPosition: endPosition, filter: filter,
            publication: PipelineConfig.defaultManagedPublication(pipelineID: harness.pipelineID))
        config.publicationMode = .managed
        config.snapshot = SnapshotOptions(workers: 1, chunkPages: 16, rowsPerGroup: 2000)
        return config
    }

    /// `schema.table` names in the publication, from the catalog.
    static func published(_ harness: CaptureHarness, _ publication: String) throws -> [String] {
        try harness.execute(
            """
            SELECT n.nspname || '.' || c.relname FROM pg_publication_rel pr
            JOIN pg_publication p ON p.oid = pr.prpubid JOIN pg_class c ON c.oid = pr.prrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE p.pubname = '\(publication)' ORDER BY 1
            """
        ).rows.compactMap { $0[0] }
    }

    static let noisySetup = """
        CREATE TABLE kept (id int PRIMARY KEY, v text);
        ALTER TABLE kept REPLICA IDENTITY FULL;
        CREATE TABLE noise (id int PRIMARY KEY, payload text);
        ALTER TABLE noise REPLICA IDENTITY FULL;
        """

    /// Bytes the walsender sent for a workload of 2000 inserts and 2000
    /// updates of an excluded table and one insert of a kept one, and the events stored.
    static func bytesSentForExcludedChanges(managed: Bool) throws -> (bytes: Int, events: [Event]) {
        let harness = try CaptureHarness(
            setup: noisySetup + (managed ? "" : "CREATE PUBLICATION popsink FOR TABLE kept, noise;"))
        defer { harness.cleanUp() }
        let filter = TableFilter(excludeTables: ["noise"])
        var config = managed ? try managedConfig(harness, filter: filter) : try harness.config(filter: filter)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        try harness.execute("INSERT INTO noise SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g")
        try harness.execute("UPDATE noise SET payload = repeat('y', 200)")
        try harness.execute("INSERT INTO kept VALUES (1, 'one')")
        let proxy = try TCPProxy(upstreamPort: harness.postgres.port)
        defer { proxy.close() }
        config.source["port"] = String(proxy.port)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        return (proxy.replicationBytesReceived, try harness.events())
    }

    @Test(.timeLimit(.minutes(4)))
    func changesOfExcludedTablesAreNotSent() throws {
        let unmanaged = try Self.bytesSentForExcludedChanges(managed: false)
        let managed = try Self.bytesSentForExcludedChanges(managed: true)
        for run in [unmanaged, managed] {
            #expect(run.events.filter { $0.table == "noise" }.isEmpty)
            #expect(run.events.filter { $0.table == "kept" }.compactMap { intValue($0.after?["id"]) } == [1])
        }
        // 4000 row changes of ~200 bytes (the updates with their old rows) against almost nothing.
        #expect(unmanaged.bytes > 1_000_000, "the unmanaged run received \(unmanaged.bytes) bytes")
        #expect(
            managed.bytes * 50 < unmanaged.bytes,
            "managed: \(managed.bytes) bytes sent, unmanaged: \(unmanaged.bytes)")
        print("walsender bytes for 4000 excluded changes: managed \(managed.bytes), unmanaged \(unmanaged.bytes)")
    }

    @Test(.timeLimit(.minutes(5)))
    func filterChangesAddAndDropTablesWithNothingLost() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE a (id int PRIMARY KEY, v int NOT NULL);
                CREATE TABLE b (id int PRIMARY KEY, v int NOT NULL);
                ALTER TABLE a REPLICA IDENTITY FULL;
                ALTER TABLE b REPLICA IDENTITY FULL;
                INSERT INTO a VALUES (1, 1);
                INSERT INTO b SELECT g, g FROM generate_series(1, 500) g;
                """)
        defer { harness.cleanUp() }
        let publication = PipelineConfig.defaultManagedPublication(pipelineID: harness.pipelineID)
        var config = try Self.managedConfig(harness, filter: TableFilter(includeTables: ["a"]))
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.published(harness, publication) == ["public.a"])

        try harness.execute("INSERT INTO a VALUES (2, 2); INSERT INTO b SELECT g, g FROM generate_series(501, 600) g")
        try harness.execute("UPDATE b SET v = v + 1000 WHERE id <= 100; DELETE FROM b WHERE id BETWEEN 101 AND 150")
        // b included: added to the publication, announced and backfilled.
        config.filter = TableFilter(includeTables: ["a", "b"])
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.published(harness, publication) == ["public.a", "public.b"])
        try harness.execute("UPDATE b SET v = -v WHERE id > 590; INSERT INTO a VALUES (3, 3)")
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        var (copies, ids) = try HeavyTests.TableSetLiveTests.copies(harness, tables: ["a", "b"])
        #expect(Set(ids).count == ids.count, "event ids repeat")
        #expect(copies["b"]!.starts == 1)
        try copies["b"]!.expectEquals(harness, "SELECT id, v FROM b", columns: ["v"])
        try copies["a"]!.expectEquals(harness, "SELECT id, v FROM a", columns: ["v"])

        // a excluded: its `capture: stopped` marker first, then out of the publication.
        config.filter = TableFilter(includeTables: ["b"])
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.published(harness, publication) == ["public.b"])
        try harness.execute("INSERT INTO a VALUES (4, 4); UPDATE b SET v = 7 WHERE id = 600")
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        (copies, ids) = try HeavyTests.TableSetLiveTests.copies(harness, tables: ["a", "b"])
        #expect(Set(ids).count == ids.count, "event ids repeat")
        #expect(copies["a"]!.stops == 1)
        #expect(copies["a"]!.rows.keys.sorted() == [1, 2, 3], "a's insert after it was excluded was captured")
        try copies["b"]!.expectEquals(harness, "SELECT id, v FROM b", columns: ["v"])
    }

    @Test(.timeLimit(.minutes(4)))
    func aTableCreatedInAnIncludedSchemaJoinsWhileRunning() async throws {
        let harness = try await CaptureHarness(
            setup: """
                CREATE SCHEMA app;
                CREATE SCHEMA other;
                CREATE TABLE app.first (id int PRIMARY KEY);
                ALTER TABLE app.first REPLICA IDENTITY FULL;
                """)
        defer { harness.cleanUp() }
        let publication = PipelineConfig.defaultManagedPublication(pipelineID: harness.pipelineID)
        let pipeline = Pipeline(
            config: try Self.managedConfig(harness, filter: TableFilter(includeSchemas: ["app"]), endPosition: nil))
        await pipeline.start()
        #expect(await eventually { pipeline.status.state == .streaming })
        try harness.execute(
            """
            CREATE TABLE app.later (id int PRIMARY KEY, v text);
            ALTER TABLE app.later REPLICA IDENTITY FULL;
            INSERT INTO app.later SELECT g, 'v' || g FROM generate_series(1, 50) g;
            CREATE TABLE other.skipped (id int PRIMARY KEY);
            """)
        #expect(await eventually { (try? Self.published(harness, publication)) == ["app.first", "app.later"] })
        try harness.execute("INSERT INTO app.later VALUES (51, 'v51'); INSERT INTO other.skipped VALUES (1)")
        let arrived = await eventually {
            var copy = TableCopy(table: "later")
            for event in (try? harness.allEvents()) ?? [] { copy.apply(event) }
            return copy.rows.count == 51
        }
        #expect(arrived, "app.later's rows did not all arrive")
        #expect(await pipeline.stop() == .stopped)
        #expect(try harness.allEvents().filter { $0.table == "skipped" }.isEmpty)
        #expect(try Self.published(harness, publication) == ["app.first", "app.later"])
    }

    @Test(.timeLimit(.minutes(3)))
    func aRoleWithoutTheRightsGetsAClearError() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE t (id int PRIMARY KEY);
                ALTER TABLE t REPLICA IDENTITY FULL;
                """)
        defer { harness.cleanUp() }
        let role = "weak_\(harness.database)"
        try harness.execute("CREATE ROLE \(role) LOGIN REPLICATION; GRANT SELECT ON t TO \(role);")
        defer {
            _ = try? harness.postgres.execute("DROP OWNED BY \(role); DROP ROLE \(role)", database: harness.database)
        }
        var config = try Self.managedConfig(harness, filter: .all)
        config.source["user"] = role
        let publication = config.publication

        // check names both grants.
        let report = SourceChecker.run(
            settings: config.source, publication: publication,
            managed: ManagedPublicationScope(selects: TableFilter.all.selects))
        let check = try #require(report.checks.first { $0.id == .publication })
        #expect(check.status == .fail)
        #expect(check.remediation?.contains(#"GRANT CREATE ON DATABASE "\#(harness.database)" TO "\#(role)";"#) == true)
        #expect(check.remediation?.contains(#"ALTER TABLE "public"."t" OWNER TO "\#(role)";"#) == true)

        // The pipeline fails at once, with the SQLSTATE and what to grant.
        guard case .failed(let error) = PipelineWorker(config: config).run() else {
            Issue.record("a pipeline without CREATE on the database did not fail")
            return
        }
        #expect(error.sqlState == "42501")
        #expect(error.code == .invalidConfiguration)
        #expect(!error.isRetryable)
        #expect(error.message.contains(publication))
        #expect(error.remediation?.contains("GRANT CREATE ON DATABASE") == true)

        // CREATE alone is not enough: only a table's owner may publish it.
        try harness.execute("GRANT CREATE ON DATABASE \(harness.database) TO \(role)")
        guard case .failed(let owner) = PipelineWorker(config: config).run() else {
            Issue.record("a pipeline whose role does not own the table did not fail")
            return
        }
        #expect(owner.sqlState == "42501")
        #expect(owner.message.contains("owner"))

        try harness.execute("ALTER TABLE t OWNER TO \(role)")
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        #expect(try Self.published(harness, publication) == ["public.t"])
        let passing = SourceChecker.run(
            settings: config.source, publication: publication,
            managed: ManagedPublicationScope(selects: TableFilter.all.selects))
        #expect(passing.checks.first { $0.id == .publication }?.status == .pass)
    }
}
