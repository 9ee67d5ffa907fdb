// A sink's secrets in the state store are sealed like source passwords: the
// data directory's bytes never hold a webhook's signing secret or a Kafka
// secret property, and the record opens with them in memory.

import ControlPlane
import Foundation
import Sinks
import Testing

@Suite struct SinkSecretsAtRestTests {
    @Test func sinkSecretsAreSealedOnDiskAndOpenInMemory() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sink-secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storePath = directory.appendingPathComponent("state.sqlite").path
        let hookSecret = "hook-canary-\(UUID().uuidString)"
        let saslPassword = "sasl-canary-\(UUID().uuidString)"
        let now = Timestamps.now()
        var record = PipelineRecord(id: "p", sourceID: "s", createdAt: now, updatedAt: now)
        record.sinks = [
            SinkConfig(
                name: "hook", target: .webhook(WebhookSettings(url: "https://127.0.0.1:9/h", secret: hookSecret))),
            SinkConfig(
                name: "k",
                target: .kafka(
                    KafkaSettings(
                        bootstrapServers: "127.0.0.1:9", properties: ["sasl.password": saslPassword, "client.id": "c"]))
            ),
        ]
        do {
            let store = try SQLiteStateStore(path: storePath)
            try await store.save(record)
            #expect(try await store.pipeline(id: "p") == record)
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
            for canary in [hookSecret, saslPassword] {
                #expect(bytes.range(of: Data(canary.utf8)) == nil, "\(name) holds a sink secret")
            }
        }
        let reopened = try SQLiteStateStore(path: storePath)
        #expect(try await reopened.pipeline(id: "p") == record, "the secrets open in memory")
    }
}
