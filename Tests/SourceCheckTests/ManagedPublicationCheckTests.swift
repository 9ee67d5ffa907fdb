// The verdict on a managed publication, judged without a server: the role
// may create it and owns the tables, or the report names each grant missing.

import Testing

@testable import SourceCheck

@Suite struct ManagedPublicationCheckTests {
    static let orders = PublishedTable(
        schema: "public", name: "orders", replicaIdentity: .full, canSelect: true, hasSchemaUsage: true)
    static let items = PublishedTable(
        schema: "public", name: "items", replicaIdentity: .default, canSelect: false, hasSchemaUsage: true)

    static func facts(_ managed: ManagedPublicationFacts) -> ServerFacts {
        var facts = ServerFacts.healthy()
        facts.managedPublication = .success(managed)
        return facts
    }

    @Test func aRoleThatMayCreateAndOwnsTheTablesPasses() throws {
        let checks = Self.facts(
            ManagedPublicationFacts(canCreate: true, ownsPublication: nil, tables: [Self.orders], unowned: [])
        ).evaluated(publication: "popsink_p1")
        #expect(checks.map(\.id) == CheckID.allCases)
        let check = try #require(checks[.publication])
        #expect(check.status == .pass)
        #expect(check.detail.contains("will be created"))
    }

    @Test func missingCreateAndOwnershipFailWithTheGrants() throws {
        let checks = Self.facts(
            ManagedPublicationFacts(
                canCreate: false, ownsPublication: nil, tables: [Self.orders, Self.items],
                unowned: [("public", "items", "owner_role")])
        ).evaluated(publication: "popsink_p1")
        let check = try #require(checks[.publication])
        #expect(check.status == .fail)
        let fix = try #require(check.remediation)
        #expect(fix.contains(#"GRANT CREATE ON DATABASE "shop" TO "app";"#))
        #expect(fix.contains(#"ALTER TABLE "public"."items" OWNER TO "app";"#))
        #expect(fix.contains(#"GRANT "owner_role" TO "app";"#))
        #expect(check.detail.contains("public.items (owner owner_role)"))
        // The table checks judge the tables the filters select.
        #expect(checks[.replicaIdentity]?.status == .fail)
        #expect(checks[.selectPrivilege]?.status == .fail)
    }

    @Test func aPublicationSomeoneElseOwnsFails() throws {
        let check = try #require(
            Self.facts(ManagedPublicationFacts(canCreate: true, ownsPublication: false, tables: [], unowned: []))
                .evaluated(publication: "popsink_p1")[.publication])
        #expect(check.status == .fail)
        #expect(check.remediation == #"ALTER PUBLICATION "popsink_p1" OWNER TO "app";"#)
    }
}
