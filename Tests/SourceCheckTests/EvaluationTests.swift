// The verdicts on facts the shared test cluster cannot show (wal_level other
// than logical, full slots, an old server), judged without any server.

import PostgresReplication
import Testing

@testable import SourceCheck

@Suite struct EvaluationTests {
    @Test func healthyServerPassesEveryCheckInOrder() {
        let checks = ServerFacts.healthy().evaluated()
        #expect(checks.map(\.id) == CheckID.allCases)
        #expect(checks.allSatisfy { $0.status == .pass && $0.remediation == nil })
    }

    @Test func walLevelReplicaFailsWithAlterSystemAndRestart() throws {
        var facts = ServerFacts.healthy()
        facts.walLevel = .success(WalLevel(setting: "replica", pendingRestart: false))
        let check = try #require(facts.evaluated()[.walLevel])
        #expect(check.status == .fail)
        #expect(check.detail.contains("wal_level is replica"))
        let remediation = try #require(check.remediation)
        #expect(remediation.hasPrefix("ALTER SYSTEM SET wal_level = logical;\n"))
        #expect(remediation.contains("restart"))
    }

    @Test func walLevelWaitingForRestartSaysSo() throws {
        var facts = ServerFacts.healthy()
        facts.walLevel = .success(WalLevel(setting: "replica", pendingRestart: true))
        #expect(try #require(facts.evaluated()[.walLevel]).detail.contains("waiting for a server restart"))
    }

    @Test(arguments: [
        (90_624, CheckResult.Status.fail), (100_023, .warn), (130_014, .warn), (140_000, .pass), (170_002, .pass),
    ])
    func serverVersion(_ version: Int, _ expected: CheckResult.Status) throws {
        let check = try #require(ServerFacts.healthy(version: version).evaluated()[.serverVersion])
        #expect(check.status == expected)
        #expect((check.remediation != nil) == (expected != .pass))
    }

    @Test func fullSlotsFailWithARaiseAndTheInactiveSlotsToConsider() throws {
        var facts = ServerFacts.healthy()
        facts.slots = .success(Capacity(maximum: 10, used: 10, inactive: ["old_slot", "it's"]))
        let check = try #require(facts.evaluated()[.replicationSlots])
        #expect(check.status == .fail)
        #expect(check.detail.contains("old_slot"))
        let remediation = try #require(check.remediation)
        #expect(remediation.hasPrefix("ALTER SYSTEM SET max_replication_slots = 14;\n"))
        #expect(remediation.contains("-- SELECT pg_drop_replication_slot('it''s');"))
    }

    @Test func noSlotsConfiguredFails() throws {
        var facts = ServerFacts.healthy()
        facts.slots = .success(Capacity(maximum: 0, used: 0))
        let check = try #require(facts.evaluated()[.replicationSlots])
        #expect(check.status == .fail)
        #expect(check.remediation?.hasPrefix("ALTER SYSTEM SET max_replication_slots = 4;") == true)
    }

    @Test func busyWalSendersFail() throws {
        var facts = ServerFacts.healthy()
        facts.walSenders = .success(Capacity(maximum: 10, used: 10))
        let check = try #require(facts.evaluated()[.walSenders])
        #expect(check.status == .fail)
        #expect(check.remediation?.hasPrefix("ALTER SYSTEM SET max_wal_senders = 14;\n") == true)
    }

    @Test func failedConnectionSkipsEverythingElse() throws {
        let error = PostgresError(
            kind: .connection, operation: "connecting",
            message:
                "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server running?\n")
        let checks = CheckEvaluation.evaluate(.failure(error), publication: "popsink")
        #expect(checks.map(\.id) == CheckID.allCases)
        let connect = try #require(checks[.connect])
        #expect(connect.status == .fail)
        #expect(
            connect.detail
                == "Could not connect: connection to server at \"127.0.0.1\", port 1 failed: Connection refused. Is the server running?"
        )
        #expect(connect.remediation?.contains("listen_addresses") == true)
        #expect(checks.dropFirst().allSatisfy { $0.status == .skip })
    }

    @Test func aFactThatCouldNotBeReadFailsOnlyItsCheck() throws {
        var facts = ServerFacts.healthy()
        facts.walSenders = .failure(
            PostgresError(
                kind: .server, operation: "SELECT", sqlState: "42501",
                message: "permission denied for view pg_stat_replication"))
        let checks = facts.evaluated()
        let check = try #require(checks[.walSenders])
        #expect(check.status == .fail)
        #expect(check.detail == "Could not be read: permission denied for view pg_stat_replication (SQLSTATE 42501).")
        #expect(checks.filter { $0.status != .pass }.count == 1)
    }

    @Test func membershipWithoutTheAttributeIsExplainedWhenRefused() throws {
        var facts = ServerFacts.healthy()
        facts.user = "App User"
        facts.role = .success(
            RoleFacts(isSuperuser: false, hasReplication: false, replicationRolesViaMembership: ["replicators"]))
        facts.replicationConnection = .failure(
            PostgresError(
                kind: .connection, operation: "connecting",
                message: "FATAL:  must be superuser or replication role to start walsender"))
        let check = try #require(facts.evaluated()[.replicationRole])
        #expect(check.status == .fail)
        #expect(check.detail.contains("member of \"replicators\""))
        #expect(check.remediation == "ALTER ROLE \"App User\" WITH REPLICATION;")
    }

    @Test func membershipAcceptedByTheServerPasses() throws {
        // What a managed service that honours a granted replication role looks like.
        var facts = ServerFacts.healthy()
        facts.role = .success(
            RoleFacts(isSuperuser: false, hasReplication: false, replicationRolesViaMembership: ["rds_replication"]))
        let check = try #require(facts.evaluated()[.replicationRole])
        #expect(check.status == .pass)
        #expect(check.detail.contains("member of \"rds_replication\""))
    }

    @Test func replicationConnectionFailingForAnotherReasonDoesNotBlameTheRole() throws {
        var facts = ServerFacts.healthy()
        facts.replicationConnection = .failure(
            PostgresError(
                kind: .connection, operation: "connecting",
                message: "FATAL:  number of requested standby connections exceeds max_wal_senders (currently 10)"))
        let check = try #require(facts.evaluated()[.replicationRole])
        #expect(check.status == .fail)
        #expect(check.detail.contains("exceeds max_wal_senders"))
        #expect(check.remediation?.contains("ALTER ROLE") != true)
    }

    @Test func missingPublicationNamesTheOnesThatExistAndSkipsTheTableChecks() throws {
        var facts = ServerFacts.healthy()
        facts.publication = .success(.missing(existing: ["PopSink", "other"]))
        let checks = facts.evaluated(publication: "popsink")
        let check = try #require(checks[.publication])
        #expect(check.status == .fail)
        #expect(check.detail.contains("Publications there: \"PopSink\", \"other\"."))
        #expect(check.remediation?.hasPrefix("CREATE PUBLICATION \"popsink\" FOR ALL TABLES;\n") == true)
        #expect(checks[.replicaIdentity]?.status == .skip)
        #expect(checks[.selectPrivilege]?.status == .skip)
    }

    @Test func publishOptionsOfferOnlyWhatTheServerKnows() throws {
        var facts = ServerFacts.healthy(version: 100_023)
        facts.publication = .success(
            .found(PublicationFacts(allTables: true, unpublishedOperations: ["delete"], tables: [])))
        let check = try #require(facts.evaluated()[.publication])
        #expect(check.remediation == "ALTER PUBLICATION \"popsink\" SET (publish = 'insert, update, delete');")
    }

    @Test func publicationLeavingOutRowChangesFailsButLeavingOutTruncateOnlyWarns() throws {
        var facts = ServerFacts.healthy()
        facts.publication = .success(
            .found(PublicationFacts(allTables: true, unpublishedOperations: ["truncate"], tables: [])))
        #expect(facts.evaluated()[.publication]?.status == .warn)
        facts.publication = .success(
            .found(PublicationFacts(allTables: true, unpublishedOperations: ["delete"], tables: [])))
        #expect(facts.evaluated()[.publication]?.status == .fail)
    }

    @Test func longTableListsAreShortenedInTheDetailButNotInTheFix() throws {
        var facts = ServerFacts.healthy()
        let tables = (1...25).map {
            PublishedTable(
                schema: "public", name: "t\($0)", replicaIdentity: .default, canSelect: true, hasSchemaUsage: true)
        }
        facts.publication = .success(
            .found(PublicationFacts(allTables: false, unpublishedOperations: [], tables: tables)))
        let check = try #require(facts.evaluated()[.replicaIdentity])
        #expect(check.detail.contains("t20 (default: primary key only) and 5 more"))
        #expect(check.remediation?.split(separator: "\n").count == 25)
    }

    @Test func namesAreQuotedInSQLAndOnlyWhereNeededInProse() {
        #expect(SQLText.qualified("My Schema", "a\"b") == "\"My Schema\".\"a\"\"b\"")
        #expect(SQLText.display("public", "orders_2") == "public.orders_2")
        #expect(SQLText.display("Sales", "1st") == "\"Sales\".\"1st\"")
    }
}

@Suite struct TransportSecurityVerdictTests {
    private func verdict(encrypted: Bool, sslmode: String) -> CheckResult? {
        var facts = ServerFacts.healthy()
        facts.security = ConnectionSecurity(
            encrypted: encrypted, protocol: encrypted ? "TLSv1.3" : nil, cipher: encrypted ? "X" : nil,
            sslmode: sslmode, verified: encrypted && sslmode.hasPrefix("verify"))
        return facts.evaluated()[.tls]
    }

    @Test func onlyVerifyFullPasses() {
        #expect(verdict(encrypted: true, sslmode: "verify-full")?.status == .pass)
        for mode in ["verify-ca", "require", "prefer"] {
            let check = verdict(encrypted: true, sslmode: mode)
            #expect(check?.status == .warn && check?.remediation?.contains("verify-full") == true, "\(mode)")
        }
        let clear = verdict(encrypted: false, sslmode: "disable")
        #expect(clear?.status == .warn && clear?.detail.contains("not encrypted") == true)
    }
}
