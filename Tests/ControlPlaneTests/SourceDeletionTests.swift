// Deleting a source while a pipeline is being created for it, through the
// API: whichever comes first wins, and no pipeline is ever left naming a
// source that is gone.

import Foundation
import Testing

@Suite struct SourceDeletionTests {
    typealias Service = APIFlowTests.Service

    @Test(.timeLimit(.minutes(5)))
    func aSourceIsNeverDeletedUnderAPipelineCreatedForIt() async throws {
        let service = try Service()
        for round in 0..<20 {
            let created = try await service.call(
                "POST", "/v1/sources",
                json: [
                    "name": "n", "host": "127.0.0.1", "database": "d", "user": "u",
                ])
            let sourceID = try #require((created.body as? [String: Any])?["id"] as? String)
            async let put = service.call("PUT", "/v1/pipelines/p\(round)", json: ["source_id": sourceID])
            async let delete = service.call("DELETE", "/v1/sources/\(sourceID)")
            let (pipeline, deletion) = try await (put, delete)
            let sourceExists = try await service.call("GET", "/v1/sources/\(sourceID)").status == 200
            let pipelineExists = try await service.call("GET", "/v1/pipelines/p\(round)").status == 200
            if pipelineExists {
                #expect(sourceExists, "round \(round): pipeline p\(round) names deleted source \(sourceID)")
                #expect(deletion.status == 409, "\(deletion.raw)")
            } else {
                #expect(deletion.status == 204, "\(deletion.raw)")
                #expect([404, 422].contains(pipeline.status), "\(pipeline.raw)")
            }
        }
        await service.stop()
    }
}
