// A 500 tells the client a request id, not the machine's file paths or the
// library's words.

import CDC
import Foundation
import PostgresTestSupport
import Testing

@Suite struct InternalErrorTests {
    @Test(.timeLimit(.minutes(5)))
    func aFailureInsideTheServiceAnswersWithARequestIDOnly() async throws {
        let postgres = try await TestPostgres.shared()
        let service = try APIFlowTests.Service()
        let sourceID = try await service.registerSource(postgres, database: "postgres")
        let pipelineID = "broken\(UInt32.random(in: 0...UInt32.max))"
        let put = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)", json: ["source_id": sourceID, "desired_state": "stopped"])
        #expect(put.status == 201, "\(put.raw)")
        // An event store that is not a database: reading it fails inside the service.
        let storePath = DataDirectory(path: service.directory.path).eventStorePath(pipelineID: pipelineID)
        try FileManager.default.createDirectory(
            atPath: (storePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: storePath))

        let answer = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events")
        #expect(answer.status == 500, "\(answer.raw)")
        let requestID = try #require(answer.headers["X-Request-Id"] as? String)
        #expect(answer.raw.contains(requestID))
        #expect(!answer.raw.contains(service.directory.path), "\(answer.raw)")
        #expect(!answer.raw.lowercased().contains("database"), "\(answer.raw)")
        #expect((answer.body as? [String: Any])?["status"] as? Int == 500)
        await service.stop()
    }
}
