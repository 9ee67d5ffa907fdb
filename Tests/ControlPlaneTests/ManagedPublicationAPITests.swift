// The API of managed publications and column masking: a pipeline PUT with
// `"publication": {"mode": "managed"}` and `columns` runs on a publication
// popsink created, its events carry no masked value, the hash key is never
// returned and is sealed at rest, and deleting the pipeline with its slot
// drops the publication too.

import CDC
import ControlPlane
import Foundation
import PostgresTestSupport
import Testing

@Suite struct ManagedPublicationAPITests {
    @Test(.timeLimit(.minutes(3)))
    func aManagedMaskedPipelineFromPutToDelete() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        let secret = "secret-\(UUID().uuidString)"
        let hashKey = "hash-key-\(UUID().uuidString)"
        try postgres.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, email text, ssn text);
            ALTER TABLE t REPLICA IDENTITY FULL;
            CREATE TABLE other (id int PRIMARY KEY);
            INSERT INTO t VALUES (1, 'a@\(secret)', 'ssn-\(secret)');
            """, database: database)
        let service = try APIFlowTests.Service()
        let sourceID = try await service.registerSource(postgres, database: database)
        let pipelineID = "p\(database)"
        let publication = PipelineConfig.defaultManagedPublication(pipelineID: pipelineID)

        let refused = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: ["source_id": sourceID, "publication": ["mode": "owned"], "columns": ["hash": [1]]])
        #expect(refused.status == 422)
        #expect(refused.raw.contains("publication.mode"))
        #expect(refused.raw.contains("columns.hash"))

        let put = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: [
                "source_id": sourceID, "desired_state": "running", "publication": ["mode": "managed"],
                "filters": ["include_tables": ["public.t"]],
                "columns": ["exclude": ["t.ssn"], "hash": ["t.email"], "hash_key": hashKey],
            ])
        #expect(put.status == 201, "\(put.raw)")
        let body = try #require(put.body as? [String: Any])
        #expect(body["publication"] as? String == publication)
        #expect(body["publication_mode"] as? String == "managed")
        #expect((body["columns"] as? [String: Any])?["hash"] as? [String] == ["t.email"])
        #expect(!put.raw.contains(hashKey))

        let loaded = await eventually {
            let page = try? await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0")
            return page?.raw.contains(#""op":"r""#) == true
        }
        #expect(loaded)
        try postgres.execute("UPDATE t SET email = 'b@\(secret)' WHERE id = 1", database: database)
        #expect(
            await eventually {
                let page = try? await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0")
                return page?.raw.contains(#""op":"u""#) == true
            })
        let events = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0")
        #expect(!events.raw.contains(secret), "a masked value reached the API")
        #expect(events.raw.contains(#""masked""#))
        let published = try postgres.execute(
            "SELECT tablename FROM pg_publication_tables WHERE pubname = '\(publication)'", database: database)
        #expect(published.rows.compactMap { $0[0] } == ["t"])

        let got = try await service.call("GET", "/v1/pipelines/\(pipelineID)")
        #expect(!got.raw.contains(hashKey))
        let state = try Data(contentsOf: service.directory.appendingPathComponent("state.sqlite"))
        let wal = (try? Data(contentsOf: service.directory.appendingPathComponent("state.sqlite-wal"))) ?? Data()
        #expect(state.range(of: Data(hashKey.utf8)) == nil && wal.range(of: Data(hashKey.utf8)) == nil)

        let deleted = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        #expect(deleted.status == 204)
        let left = try postgres.execute(
            "SELECT count(*) AS n FROM pg_publication WHERE pubname = '\(publication)'", database: database)
        #expect(left.value("n") == "0")
        await service.stop()
    }
}
