// `receive_timeout` of a pipeline: set through the API, bounded like the
// CLI's `--receive-timeout`, kept across a restart of the service, and in
// the configuration the pipeline runs with.

import CDC
import Foundation
import PostgresTestSupport
import Testing

@testable import ControlPlane

@Suite struct ReceiveTimeoutSettingTests {
    typealias Service = APIFlowTests.Service

    private func timeout(_ body: Any?) -> Int? {
        (body as? [String: Any])?["receive_timeout"] as? Int
    }

    @Test func setThroughTheAPIDefaultedAndKeptAcrossARestart() async throws {
        var service = try Service()
        let created = try await service.call(
            "POST", "/v1/sources", json: ["name": "n", "host": "h", "database": "d", "user": "u"])
        let sourceID = try #require((created.body as? [String: Any])?["id"] as? String)
        let plain = try await service.call("PUT", "/v1/pipelines/plain", json: ["source_id": sourceID])
        #expect(plain.status == 201, "\(plain.raw)")
        #expect(timeout(plain.body) == PipelineConfig.defaultReceiveTimeoutSeconds)
        let tuned = try await service.call(
            "PUT", "/v1/pipelines/tuned", json: ["source_id": sourceID, "receive_timeout": 7])
        #expect(tuned.status == 201, "\(tuned.raw)")
        #expect(timeout(tuned.body) == 7)
        let nulled = try await service.call(
            "PUT", "/v1/pipelines/nulled", json: ["source_id": sourceID, "receive_timeout": NSNull()])
        #expect(timeout(nulled.body) == PipelineConfig.defaultReceiveTimeoutSeconds, "\(nulled.raw)")

        await service.stop(keepingData: true)
        service = try Service(directory: service.directory)
        #expect(timeout(try await service.call("GET", "/v1/pipelines/tuned").body) == 7)
        // A PUT replaces the resource: left out, the default again.
        let replaced = try await service.call("PUT", "/v1/pipelines/tuned", json: ["source_id": sourceID])
        #expect(timeout(replaced.body) == PipelineConfig.defaultReceiveTimeoutSeconds)
        await service.stop()
    }

    @Test func outOfBoundsOrMistypedValuesAre422() async throws {
        let service = try Service()
        let created = try await service.call(
            "POST", "/v1/sources", json: ["name": "n", "host": "h", "database": "d", "user": "u"])
        let sourceID = try #require((created.body as? [String: Any])?["id"] as? String)
        for value: Any in [0, 1, -5, 86_401, 1e300, 2.5, "60", true, ["seconds": 60]] {
            let response = try await service.call(
                "PUT", "/v1/pipelines/bad", json: ["source_id": sourceID, "receive_timeout": value])
            #expect(response.status == 422, "\(value): \(response.raw)")
            let errors = ((response.body as? [String: Any])?["errors"] as? [[String: Any]]) ?? []
            #expect(errors.compactMap { $0["field"] as? String } == ["receive_timeout"], "\(value): \(response.raw)")
        }
        #expect(try await service.call("GET", "/v1/pipelines/bad").status == 404)
        for value in [2, 86_400] {
            let response = try await service.call(
                "PUT", "/v1/pipelines/edge\(value)", json: ["source_id": sourceID, "receive_timeout": value])
            #expect(response.status == 201 && timeout(response.body) == value, "\(value): \(response.raw)")
        }
        await service.stop()
    }

    /// The pipeline the registry starts runs with the timeout.
    @Test(.timeLimit(.minutes(5)))
    func theRunningPipelineHasIt() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT("id int PRIMARY KEY", replicaIdentityFull: false)
        let service = try Service()
        let pipelineID = "p\(database)"
        let sourceID = try await service.registerSource(postgres, database: database)
        let put = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: ["source_id": sourceID, "desired_state": "running", "receive_timeout": 9])
        #expect(put.status == 201, "\(put.raw)")
        #expect(service.registry.config(pipelineID)?.receiveTimeout == .seconds(9))
        await service.stop()
    }
}
