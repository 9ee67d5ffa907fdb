// /v1/pipelines/{id}/consumers through a live service: a consumer registers
// by acknowledging, its position only moves forward, its lag is the events
// after it, and a position the store cannot have is refused.

import Foundation
import PostgresTestSupport
import Testing

@Suite struct ConsumerAPITests {
    @Test(.timeLimit(.minutes(3)))
    func consumersRegisterAcknowledgeAndGo() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT()
        let service = try APIFlowTests.Service()
        let pipelineID = "consumers\(database)"
        try await service.runningPipeline(pipelineID, on: postgres, database: database)
        let consumers = "/v1/pipelines/\(pipelineID)/consumers"
        #expect((try await service.call("GET", consumers).body as? [String: Any])?["consumers"] as? [Any] != nil)

        try postgres.execute("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 5) g", database: database)
        var last = 0
        var page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&limit=1")
        for _ in 0..<600 where last < 6 {
            page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&limit=1")
            last = (page.body as? [String: Any])?["last_seq"] as? Int ?? 0
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(last == 6, "the table's s event and 5 rows: \(page.raw)")

        let created = try await service.call("PUT", "\(consumers)/billing", json: ["acked_seq": 2])
        #expect(created.status == 201, "\(created.raw)")
        let billing = try #require(created.body as? [String: Any])
        #expect(billing["acked_seq"] as? Int == 2)
        #expect(billing["lag"] as? Int == 4)
        #expect(billing["lost_events"] as? Bool == false)

        // Forward only: a late, older acknowledgement leaves the position.
        #expect(try await service.call("PUT", "\(consumers)/billing", json: ["acked_seq": 5]).status == 200)
        let stale = try await service.call("PUT", "\(consumers)/billing", json: ["acked_seq": 3])
        #expect((stale.body as? [String: Any])?["acked_seq"] as? Int == 5)
        let listed = (try await service.call("GET", consumers).body as? [String: Any])?["consumers"] as? [[String: Any]]
        #expect(listed?.map { $0["name"] as? String } == ["billing"])
        #expect(listed?.first?["lag"] as? Int == 1)

        // Positions the store cannot have, and malformed requests.
        #expect(try await service.call("PUT", "\(consumers)/late", json: ["acked_seq": 99]).status == 409)
        #expect(try await service.call("PUT", "\(consumers)/bad", json: ["acked_seq": -1]).status == 422)
        #expect(try await service.call("PUT", "\(consumers)/bad", json: [:]).status == 422)
        #expect(try await service.call("PUT", "\(consumers)/bad", json: ["acked_seq": NSNull()]).status == 422)
        #expect(try await service.call("PUT", "\(consumers)/bad", json: ["acked_seq": "1"]).status == 422)
        #expect(try await service.call("PUT", "\(consumers)/bad%20name", json: ["acked_seq": 1]).status == 422)
        #expect(try await service.call("GET", "\(consumers)/nobody").status == 404)
        #expect(try await service.call("GET", "/v1/pipelines/nope/consumers").status == 404)

        #expect(try await service.call("DELETE", "\(consumers)/billing").status == 204)
        #expect(try await service.call("GET", "\(consumers)/billing").status == 404)
        #expect(try await service.call("DELETE", "\(consumers)/billing").status == 404)

        _ = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        await service.stop()
    }
}
