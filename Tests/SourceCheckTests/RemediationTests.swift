// Each failing prerequisite on the real test cluster: the check names it, and
// the SQL it prints, pasted as is, makes the check pass on the next run.

import PostgresReplication
import SourceCheck
import Testing

@Suite struct RemediationTests {
    /// Tables that meet their prerequisites, for tests about something else.
    static func readyTables(_ fixture: CheckFixture) throws {
        try fixture.execute(
            """
            CREATE TABLE orders (id int PRIMARY KEY);
            ALTER TABLE orders REPLICA IDENTITY FULL;
            GRANT SELECT ON orders TO \(fixture.role);
            """)
    }

    @Test func roleWithoutReplicationIsGrantedIt() throws {
        let fixture = try CheckFixture()
        try Self.readyTables(fixture)
        try fixture.execute("CREATE PUBLICATION popsink FOR TABLE orders")
        let report = fixture.check()
        let check = try #require(report[.replicationRole])
        #expect(check.status == .fail)
        #expect(check.detail.contains("was refused"))
        #expect(check.remediation == "ALTER ROLE \(fixture.role) WITH REPLICATION;")
        // The shared test cluster speaks no TLS, hence the tls warning; no DDL capture either.
        #expect(report.checks.filter { $0.status != .pass }.map(\.id) == [.replicationRole, .tls, .ddlCapture])

        let fixed = try fixture.applyingRemediation(of: .replicationRole, in: report)
        #expect(fixed.passed, "\(renderText(fixed))")
        #expect(fixed[.replicationRole]?.status == .pass)
    }

    /// DESIGN.md section 2 allows "member of a role that has it"; Postgres
    /// does not: attributes are not inherited, and the replication connection
    /// is refused. The check says so and the fix is the attribute itself.
    @Test func memberOfAReplicationRoleIsRefusedAndToldWhy() throws {
        let fixture = try CheckFixture()
        let group = "replicators_\(CheckFixture.uniqueSuffix())"
        try fixture.createRole(group, "NOLOGIN REPLICATION")
        try fixture.execute("GRANT \(CheckFixture.quote(group)) TO \(fixture.role)")
        try Self.readyTables(fixture)
        try fixture.execute("CREATE PUBLICATION popsink FOR TABLE orders")
        let report = fixture.check()
        let check = try #require(report[.replicationRole])
        #expect(check.status == .fail)
        #expect(check.detail.contains("member of \"\(group)\""), "\(check.detail)")
        #expect(check.detail.contains("not pass role attributes on through membership"))

        let fixed = try fixture.applyingRemediation(of: .replicationRole, in: report)
        #expect(fixed[.replicationRole]?.status == .pass, "\(renderText(fixed))")
    }

    @Test func missingPublicationIsCreatedEvenWithANameNeedingQuotes() throws {
        let fixture = try CheckFixture(attributes: "REPLICATION")
        try Self.readyTables(fixture)
        let publication = "Pop \"Sink\""
        let report = fixture.check(publication: publication)
        let check = try #require(report[.publication])
        #expect(check.status == .fail)
        #expect(check.detail.contains("does not exist"))
        #expect(check.remediation?.hasPrefix("CREATE PUBLICATION \"Pop \"\"Sink\"\"\" FOR ALL TABLES;") == true)
        #expect(report[.replicaIdentity]?.status == .skip)
        #expect(report[.selectPrivilege]?.status == .skip)

        let fixed = try fixture.applyingRemediation(of: .publication, publication: publication, in: report)
        #expect(fixed.passed, "\(renderText(fixed))")
        #expect(fixed[.publication]?.detail.contains("FOR ALL TABLES (1 now: public.orders)") == true)
    }

    @Test func tablesWithoutFullReplicaIdentityGetOneAlterEachWithQuotedNames() throws {
        let fixture = try CheckFixture(attributes: "REPLICATION")
        try fixture.execute(
            """
            CREATE SCHEMA "My Schema";
            CREATE TABLE "My Schema"."Weird ""Name"" x" (id int PRIMARY KEY);
            CREATE TABLE plain (id int);
            ALTER TABLE plain REPLICA IDENTITY NOTHING;
            GRANT USAGE ON SCHEMA "My Schema" TO \(fixture.role);
            GRANT SELECT ON "My Schema"."Weird ""Name"" x", plain TO \(fixture.role);
            CREATE PUBLICATION popsink FOR TABLE "My Schema"."Weird ""Name"" x", plain;
            """)
        let report = fixture.check()
        let check = try #require(report[.replicaIdentity])
        #expect(check.status == .fail)
        #expect(
            check.detail.contains("\"My Schema\".\"Weird \"\"Name\"\" x\" (default: primary key only)"),
            "\(check.detail)")
        #expect(check.detail.contains("public.plain (nothing)"))
        #expect(
            check.remediation == """
                ALTER TABLE "My Schema"."Weird ""Name"" x" REPLICA IDENTITY FULL;
                ALTER TABLE "public"."plain" REPLICA IDENTITY FULL;
                """)

        let fixed = try fixture.applyingRemediation(of: .replicaIdentity, in: report)
        #expect(fixed.passed, "\(renderText(fixed))")
    }

    @Test func unreadableTablesGetGrantsForARoleNameNeedingQuotes() throws {
        let fixture = try CheckFixture(user: "Check \"User\" Ü", attributes: "REPLICATION")
        try fixture.execute(
            """
            CREATE SCHEMA sales;
            CREATE TABLE sales.invoices (id int);
            CREATE TABLE orders (id int);
            ALTER TABLE sales.invoices REPLICA IDENTITY FULL;
            ALTER TABLE orders REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE sales.invoices, orders;
            """)
        let report = fixture.check()
        let check = try #require(report[.selectPrivilege])
        #expect(check.status == .fail)
        #expect(check.detail.contains("cannot read 2 of 2 published tables"))
        #expect(
            check.remediation == """
                GRANT USAGE ON SCHEMA "sales" TO \(fixture.role);
                GRANT SELECT ON TABLE "public"."orders" TO \(fixture.role);
                GRANT SELECT ON TABLE "sales"."invoices" TO \(fixture.role);
                """)

        let fixed = try fixture.applyingRemediation(of: .selectPrivilege, in: report)
        #expect(fixed.passed, "\(renderText(fixed))")
        #expect(fixed[.connect]?.detail.contains(fixture.role) == true)
    }

    @Test func publicationLeavingOutChangesFailsAndIsWidened() throws {
        let fixture = try CheckFixture(attributes: "REPLICATION")
        try Self.readyTables(fixture)
        try fixture.execute("CREATE PUBLICATION popsink FOR TABLE orders WITH (publish = 'insert')")
        let report = fixture.check()
        let check = try #require(report[.publication])
        #expect(check.status == .fail)
        #expect(check.detail.contains("leaves out update, delete, truncate"))

        let fixed = try fixture.applyingRemediation(of: .publication, in: report)
        #expect(fixed.passed, "\(renderText(fixed))")
    }

    @Test func emptyPublicationWarnsThatNothingWillBeCaptured() throws {
        let fixture = try CheckFixture(attributes: "REPLICATION")
        try fixture.execute("CREATE PUBLICATION popsink")
        let check = try #require(fixture.check()[.publication])
        #expect(check.status == .warn)
        #expect(
            check.detail
                == "Publication \"popsink\" publishes 0 tables. Nothing will be captured until tables are added.")
    }
}
