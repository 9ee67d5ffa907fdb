// A Kafka secret property is never shown, so leaving it out of a PUT keeps
// it; giving it as `null` is how a client removes it. The removal must reach
// the sealed record in the state store, not only the answer.

import ControlPlane
import Foundation
import PostgresTestSupport
import Sinks
import Testing

extension SinkSuites {
    @Suite("Removing a sink's secret property", .serialized)
    struct SinkSecretRemovalTests {
        @Test(.timeLimit(.minutes(5)))
        func aNullPropertyRemovesAKafkaSecretEvenSealedAtRest() async throws {
            let postgres = try await TestPostgres.shared()
            let service = try APIService()
            let sourceID = try await service.registerSource(postgres, database: "postgres")
            let canary = "sasl-canary-\(UUID().uuidString)"
            func put(_ properties: [String: Any]) async throws -> APIService.Reply {
                try await service.call(
                    "PUT", "/v1/pipelines/secret_removal",
                    json: [
                        "source_id": sourceID,
                        "sinks": [
                            [
                                "name": "k", "type": "kafka", "bootstrap_servers": "127.0.0.1:9",
                                "properties": properties,
                            ] as [String: Any]
                        ],
                    ])
            }
            func kafkaSink(_ reply: APIService.Reply) -> [String: Any] {
                (reply.object["sinks"] as? [[String: Any]])?.first ?? [:]
            }
            func stored() async throws -> [String: String] {
                // A second opening of the state store reads the sealed record as a restart would.
                let store = try SQLiteStateStore(path: service.directory.appendingPathComponent("state.sqlite").path)
                let record = try #require(try await store.pipeline(id: "secret_removal"))
                guard case .kafka(let settings)? = record.sinks.first?.target else {
                    Issue.record("the stored pipeline has no Kafka sink: \(record.sinks)")
                    return [:]
                }
                return settings.properties
            }

            let created = try await put([
                "sasl.password": canary, "sasl.oauthbearer.client.secret": "other-secret", "client.id": "c",
            ])
            #expect(created.status == 201, "\(created.raw)")
            #expect(
                kafkaSink(created)["secret_properties"] as? [String] == [
                    "sasl.oauthbearer.client.secret", "sasl.password",
                ])
            #expect(try await stored()["sasl.password"] == canary)

            // Left out: kept (the client cannot send back what it never saw).
            let kept = try await put(["client.id": "c"])
            #expect(kept.status == 200, "\(kept.raw)")
            #expect(
                kafkaSink(kept)["secret_properties"] as? [String] == [
                    "sasl.oauthbearer.client.secret", "sasl.password",
                ])

            // null: removed from the answer and from the sealed record; the other secret stays.
            let removed = try await put(["sasl.password": NSNull(), "client.id": "c", "never.set": NSNull()])
            #expect(removed.status == 200, "\(removed.raw)")
            #expect(kafkaSink(removed)["secret_properties"] as? [String] == ["sasl.oauthbearer.client.secret"])
            #expect(kafkaSink(removed)["properties"] as? [String: String] == ["client.id": "c"])
            let properties = try await stored()
            #expect(properties["sasl.password"] == nil, "the removal reached the state store")
            #expect(properties["sasl.oauthbearer.client.secret"] == "other-secret")
            #expect(properties["never.set"] == nil)
            let read = try await service.call("GET", "/v1/pipelines/secret_removal")
            #expect(kafkaSink(read)["secret_properties"] as? [String] == ["sasl.oauthbearer.client.secret"])
            #expect(!read.raw.contains(canary) && !read.raw.contains("other-secret"), "\(read.raw)")

            // A property that is not a string nor null is still refused, naming it.
            let wrong = try await put(["sasl.password": 5])
            #expect(wrong.status == 422, "\(wrong.raw)")
            #expect(wrong.raw.contains("sinks[0].properties"), "\(wrong.raw)")

            _ = try await service.call("DELETE", "/v1/pipelines/secret_removal")
            await service.stop()
        }
    }
}
