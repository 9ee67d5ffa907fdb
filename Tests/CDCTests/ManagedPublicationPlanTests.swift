// The managed publication's plan without Postgres: what is added, what is
// dropped, that a table still captured (its stop marker not through yet)
// stays published, and that an added table carries its row filter.

import Testing

@testable import CDC

@Suite struct ManagedPublicationPlanTests {
    static func names(_ dotted: String...) -> [QualifiedName] {
        dotted.map {
            let parts = $0.split(separator: ".", maxSplits: 1)
            return QualifiedName(schema: String(parts[0]), table: String(parts[1]))
        }
    }

    @Test func addsWhatIsSelectedAndDropsWhatIsNeitherSelectedNorCaptured() {
        let plan = ManagedPublicationPlan(
            selected: Self.names("app.a", "app.b", "app.new"),
            published: Self.names("app.a", "app.b", "app.old", "app.gone"),
            keep: ["app.old"])
        #expect(plan.add == Self.names("app.new"))
        #expect(plan.drop == Self.names("app.gone"))
        #expect(
            plan.statements(publication: "popsink_p1") == [
                #"ALTER PUBLICATION "popsink_p1" ADD TABLE "app"."new""#,
                #"ALTER PUBLICATION "popsink_p1" DROP TABLE "app"."gone""#,
            ])
    }

    @Test func nothingToDoWhenInStep() {
        let plan = ManagedPublicationPlan(
            selected: Self.names("a.x"), published: Self.names("a.x"), keep: [])
        #expect(plan.isEmpty)
        #expect(plan.statements(publication: "p").isEmpty)
    }

    @Test func namesAreQuoted() {
        let odd = [QualifiedName(schema: "My Schema", table: #"we"ird"#)]
        let plan = ManagedPublicationPlan(selected: odd, published: [], keep: [])
        #expect(plan.statements(publication: "Pub") == [#"ALTER PUBLICATION "Pub" ADD TABLE "My Schema"."we""ird""#])
        let create = ManagedPublication(name: "popsink_p1", filter: .all).createStatement(odd, serverVersion: 160000)
        #expect(
            create
                == #"CREATE PUBLICATION "popsink_p1" FOR TABLE "My Schema"."we""ird" WITH (publish_via_partition_root = true)"#
        )
        #expect(
            ManagedPublication(name: "p", filter: .all).createStatement([], serverVersion: 120000)
                == #"CREATE PUBLICATION "p""#)
    }

    @Test func theDefaultNameIsThePipelines() {
        #expect(PipelineConfig.defaultManagedPublication(pipelineID: "orders") == "popsink_orders")
    }

    @Test func addedTablesCarryTheirRowFilters() {
        let filters = [Self.names("a.x")[0]: #"("region" = 'eu'::text)"#, Self.names("a.old")[0]: "(true)"]
        let plan = ManagedPublicationPlan(
            selected: Self.names("a.x", "a.y"), published: Self.names("a.old"), keep: ["a.old"], filters: filters)
        #expect(plan.filters == [Self.names("a.x")[0]: #"("region" = 'eu'::text)"#], "only the added tables' filters")
        #expect(
            plan.statements(publication: "p") == [
                #"ALTER PUBLICATION "p" ADD TABLE "a"."x" WHERE (("region" = 'eu'::text)), "a"."y""#
            ])
        let create = ManagedPublication(name: "p", filter: .all).createStatement(
            Self.names("a.x", "a.y"), serverVersion: 150000, filters: filters)
        #expect(
            create
                == #"CREATE PUBLICATION "p" FOR TABLE "a"."x" WHERE (("region" = 'eu'::text)), "a"."y" WITH (publish_via_partition_root = true)"#
        )
    }
}
