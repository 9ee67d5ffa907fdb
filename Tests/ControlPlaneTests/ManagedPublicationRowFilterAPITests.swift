// Row filters through the API: `filters.row_filters` is read with an error
// per wrong field and refused with an existing publication; a managed
// pipeline delivers only the matching rows' changes, shows the filters as it
// was given them; a `PUT …/filters` on it checks the filters against the
// source first (422), and one with another filter takes effect.

import CDC
import Foundation
import PostgresTestSupport
import Testing

@Suite struct ManagedPublicationRowFilterAPITests {
    @Test(.timeLimit(.minutes(4)))
    func rowFiltersFromPutToAChangedFilter() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        try postgres.execute(
            """
            CREATE TABLE o (id int PRIMARY KEY, region text NOT NULL);
            ALTER TABLE o REPLICA IDENTITY FULL;
            INSERT INTO o VALUES (1, 'eu'), (2, 'us');
            CREATE TABLE k (id int PRIMARY KEY, region text);
            """, database: database)
        let service = try APIFlowTests.Service()
        let sourceID = try await service.registerSource(postgres, database: database)
        let id = "f\(database)"
        let slot = PipelineConfig.defaultSlot(pipelineID: id)!.rawValue
        defer { _ = try? postgres.execute("SELECT pg_drop_replication_slot('\(slot)')") }
        let eu: [[String: Any]] = [["column": "region", "op": "=", "value": "eu"]]

        func errors(_ answer: (status: Int, raw: String, body: Any?)) -> [String] {
            ((answer.body as? [String: Any])?["errors"] as? [[String: Any]] ?? []).map {
                "\($0["field"] ?? ""): \($0["message"] ?? "")"
            }
        }
        let existing = try await service.call(
            "PUT", "/v1/pipelines/\(id)",
            json: ["source_id": sourceID, "filters": ["row_filters": ["public.o": eu]]] as [String: Any])
        #expect(existing.status == 422)
        #expect(
            errors((existing.status, existing.raw, existing.body)).first?.hasPrefix(
                "filters.row_filters: needs a managed publication") == true, "\(existing.raw)")
        let malformed = try await service.call(
            "PUT", "/v1/pipelines/\(id)",
            json: [
                "source_id": sourceID, "publication": ["mode": "managed"],
                "filters": ["row_filters": ["public.*": eu, "public.o": "region = 'eu'"]],
            ] as [String: Any])
        #expect(malformed.status == 422)
        let malformedErrors = errors((malformed.status, malformed.raw, malformed.body))
        #expect(malformedErrors.contains { $0.hasPrefix("filters.row_filters.public.*: must be a schema.table name") })
        #expect(malformedErrors.contains { $0.hasPrefix("filters.row_filters.public.o: SQL text is not accepted") })

        let put = try await service.call(
            "PUT", "/v1/pipelines/\(id)",
            json: [
                "source_id": sourceID, "desired_state": "running", "publication": ["mode": "managed"],
                "filters": ["include_tables": ["public.o"], "row_filters": ["public.o": eu]],
            ] as [String: Any])
        #expect(put.status == 201, "\(put.raw)")
        let shown = ((put.body as? [String: Any])?["filters"] as? [String: Any])?["row_filters"] as? [String: Any]
        #expect((shown?["public.o"] as? [[String: Any]])?.first?["value"] as? String == "eu", "\(put.raw)")
        #expect(try await LifecycleTests.waitForState(service, id, "streaming") == "streaming")

        /// The `c` events' (id, region) of table o, once `until` is among them.
        func inserts(until: Int) async throws -> [String] {
            var found: [String] = []
            _ = await eventually {
                let page = try? await service.call("GET", "/v1/pipelines/\(id)/events?after=0&limit=5000")
                found = ((page?.body as? [String: Any])?["events"] as? [[String: Any]] ?? []).compactMap { entry in
                    guard let event = entry["event"] as? [String: Any], event["op"] as? String == "c",
                        let after = event["after"] as? [String: Any]
                    else { return nil }
                    return "\(after["id"] ?? "") \(after["region"] ?? "")"
                }
                return found.contains { $0.hasPrefix("\(until) ") }
            }
            return found
        }
        try postgres.execute("INSERT INTO o VALUES (10, 'us'), (11, 'eu'), (12, 'us')", database: database)
        #expect(try await inserts(until: 11) == ["11 eu"])

        // Checked against the running pipeline's source before it is taken: the replica identity
        // rule, the table's columns, and what the columns' types accept.
        let refused = try await service.call(
            "PUT", "/v1/pipelines/\(id)/filters",
            json: [
                "include_tables": ["public.o", "public.k"],
                "row_filters": [
                    "public.k": [["column": "region", "op": "=", "value": "eu"]],
                    "public.o": [["column": "nope", "op": "=", "value": 1]],
                ],
            ] as [String: Any])
        #expect(refused.status == 422, "\(refused.raw)")
        let refusedErrors = errors((refused.status, refused.raw, refused.body))
        #expect(
            refusedErrors.contains {
                $0.hasPrefix("row_filters.public.k: ") && $0.contains(#"reads "region", outside its replica identity"#)
                    && $0.contains("REPLICA IDENTITY FULL")
            }, "\(refusedErrors)")
        #expect(refusedErrors.contains { $0.contains(#"public.o has no column "nope""#) }, "\(refusedErrors)")
        let badValue = try await service.call(
            "PUT", "/v1/pipelines/\(id)/filters",
            json: ["row_filters": ["public.o": [["column": "id", "op": ">", "value": "x"]]]] as [String: Any])
        #expect(badValue.status == 422 && badValue.raw.contains("22P02"), "\(badValue.raw)")

        let changed = try await service.call(
            "PUT", "/v1/pipelines/\(id)/filters",
            json: [
                "include_tables": ["public.o"],
                "row_filters": ["public.o": [["column": "region", "op": "in", "value": ["us"]]]],
            ]
                as [String: Any])
        #expect(changed.status == 200, "\(changed.raw)")
        // The changes after the new session set the filter are filtered by it.
        let publication = PipelineConfig.defaultManagedPublication(pipelineID: id)
        #expect(
            await eventually {
                let filter = try? postgres.execute(
                    """
                    SELECT pg_get_expr(pr.prqual, pr.prrelid) FROM pg_publication_rel pr
                    JOIN pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = '\(publication)'
                    """, database: database)
                return filter?.rows.first?[0]?.contains("'us'::text") == true
            })
        #expect(try await LifecycleTests.waitForState(service, id, "streaming") == "streaming")
        try postgres.execute("INSERT INTO o VALUES (20, 'eu'), (21, 'us'), (22, 'eu')", database: database)
        #expect(try await inserts(until: 21) == ["11 eu", "21 us"])

        _ = try await service.call("DELETE", "/v1/pipelines/\(id)?drop_slot=true")
        await service.stop()
    }
}
