// The sink check against real targets: a nats-server with JetStream (and one
// whose user may not publish to the sink's subjects), librdkafka's mock
// cluster, and webhook receivers over http and https. Each check is seen
// passing and failing, and the probes are seen storing nothing.

import Foundation
import PostgresTestSupport
import Testing

@testable import Sinks

extension SinkSuites {
    @Suite("Sink check", .serialized)
    struct SinkCheckTests {
        static let secret = "a-shared-secret-of-32-bytes-long"

        private func jetstream(_ url: String, stream: String = "CHK", create: Bool = true) -> SinkConfig {
            SinkConfig(
                name: "js",
                target: .jetstream(
                    JetStreamSettings(servers: [url], stream: stream, createStream: create, ackTimeoutSeconds: 3)))
        }

        private func statuses(_ report: SinkCheckReport) -> [String: SinkCheckResult.Status] {
            Dictionary(uniqueKeysWithValues: report.checks.map { ($0.id, $0.status) })
        }

        @Test func jetStreamChecksTheServerTheStreamAndThePublishPermission() throws {
            let server = try NATSServer()
            // No stream yet, create_stream: it will be made at start; the probe waits for it.
            var report = SinkChecker.run(jetstream(server.url), pipelineID: "orders")
            #expect(
                statuses(report) == ["connect": .pass, "jetstream": .pass, "stream": .pass, "publish": .skip],
                "\(report)")
            #expect(report.passed)

            // Without create_stream, the missing stream fails with the command that makes it.
            report = SinkChecker.run(jetstream(server.url, create: false), pipelineID: "orders")
            #expect(report["stream"]?.status == .fail)
            #expect(
                report["stream"]?.remediation?.contains("nats stream add CHK --subjects 'popsink.orders.>'") == true)
            #expect(!report.passed)

            // The stream as the sink makes it: the probe reaches it and stores nothing.
            let target = JetStreamTarget(
                settings: JetStreamSettings(servers: [server.url], stream: "CHK"), pipelineID: "orders", maxInFlight: 1)
            try target.open()
            target.close(abrupt: false)
            report = SinkChecker.run(jetstream(server.url, create: false), pipelineID: "orders")
            #expect(
                statuses(report) == ["connect": .pass, "jetstream": .pass, "stream": .pass, "publish": .pass],
                "\(report)")
            #expect(try server.streamContents("CHK").isEmpty, "the probe stored nothing")

            // Another pipeline's sink on the same stream: its subjects are not the stream's.
            report = SinkChecker.run(jetstream(server.url, create: false), pipelineID: "billing")
            #expect(report["stream"]?.status == .fail && report["publish"]?.status == .skip, "\(report)")
            #expect(report["stream"]?.remediation?.contains("popsink.billing.>") == true)

            // The server is gone: the connection fails and names the servers; the rest is skipped.
            server.stop()
            report = SinkChecker.run(jetstream(server.url), pipelineID: "orders")
            #expect(
                statuses(report) == ["connect": .fail, "jetstream": .skip, "stream": .skip, "publish": .skip],
                "\(report)")
            #expect(report["connect"]?.remediation?.contains(server.url) == true)
        }

        @Test func jetStreamFailsThePublishCheckForAUserWhoMayNotPublish() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nats-conf-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let configuration = directory.appendingPathComponent("server.conf")
            try """
            authorization {
              users = [
                { user: admin, password: secret1 }
                { user: reader, password: secret2, permissions: { publish: { deny: ["popsink.>"] } } }
              ]
            }
            """.write(to: configuration, atomically: true, encoding: .utf8)
            let server = try NATSServer(extraArguments: ["-c", configuration.path])
            let admin = "nats://admin:secret1@127.0.0.1:\(server.port)"
            let target = JetStreamTarget(
                settings: JetStreamSettings(servers: [admin], stream: "CHK"), pipelineID: "orders", maxInFlight: 1)
            try target.open()
            target.close(abrupt: false)
            #expect(SinkChecker.run(jetstream(admin), pipelineID: "orders")["publish"]?.status == .pass)

            let reader = "nats://reader:secret2@127.0.0.1:\(server.port)"
            let report = SinkChecker.run(jetstream(reader), pipelineID: "orders")
            #expect(report["stream"]?.status == .pass, "\(report)")
            #expect(report["publish"]?.status == .fail, "\(report)")
            #expect(report["publish"]?.remediation?.contains("publish to popsink.orders.>") == true, "\(report)")
            #expect(report.target == "nats://reader:***@127.0.0.1:\(server.port)", "no password in the report")

            let wrong = "nats://reader:nope@127.0.0.1:\(server.port)"
            #expect(SinkChecker.run(jetstream(wrong), pipelineID: "orders")["connect"]?.status == .fail)
        }

        @Test func withoutJetStreamTheCheckFailsAtItsStepAndASinkParksWithTheSameMessage() throws {
            let server = try NATSServer(jetStream: false)
            let report = SinkChecker.run(jetstream(server.url), pipelineID: "orders")
            #expect(
                statuses(report) == ["connect": .pass, "jetstream": .fail, "stream": .skip, "publish": .skip],
                "\(report)")
            let failure = try #require(report["jetstream"])
            #expect(failure.detail.hasPrefix("The account has no JetStream"), "\(failure.detail)")
            #expect(failure.remediation?.contains("nats-server -js") == true, "\(failure)")

            // A sink against the same server stops for good with the same words, rather than retrying.
            let store = try StoreFixture()
            let last = try store.append(20)
            let sink = SinkForwarder(
                config: jetstream(server.url), pipelineID: "orders", storePath: store.storePath,
                positionPath: store.positionPath, idleWait: 0.05)
            sink.start()
            defer { sink.stop() }
            #expect(!sink.waitUntilDelivered(last, timeout: 20))
            let status = sink.status
            #expect(status.state == .parked, "\(status)")
            let reason = try #require(failure.detail.components(separatedBy: " (JetStream error").first)
            #expect(status.lastError?.contains("refused: \(reason)") == true, "\(status.lastError ?? "no error")")
            #expect(status.lastError?.contains(failure.remediation ?? "-") == true)
            #expect(status.errors[.refused] == 1 && status.retries == 0, "\(status)")
        }

        @Test func kafkaChecksTheBrokersAndTheTopics() throws {
            let cluster = try KafkaMockCluster()
            func kafka(_ servers: String, topic: String) -> SinkConfig {
                SinkConfig(
                    name: "k",
                    target: .kafka(
                        KafkaSettings(
                            bootstrapServers: servers, topic: topic, properties: ["log_level": "0"],
                            deliveryTimeoutSeconds: 3)))
            }
            var report = SinkChecker.run(kafka(cluster.bootstrapServers, topic: "cdc.{pipeline}"), pipelineID: "orders")
            #expect(report["brokers"]?.status == .pass, "\(report)")
            #expect(report["brokers"]?.detail.contains("3 brokers") == true, "\(report)")
            #expect(report["topics"]?.status == .warn, "cdc.orders does not exist yet: \(report)")
            #expect(report["topics"]?.remediation?.contains("--topic cdc.orders") == true)

            cluster.createTopic("cdc.orders", partitions: 4)
            report = SinkChecker.run(kafka(cluster.bootstrapServers, topic: "cdc.{pipeline}"), pipelineID: "orders")
            #expect(report["topics"]?.status == .pass, "\(report)")
            #expect(report.passed)

            // A topic per table: the ones that exist are listed.
            cluster.createTopic("popsink.orders.public.items", partitions: 2)
            report = SinkChecker.run(
                kafka(cluster.bootstrapServers, topic: "popsink.{pipeline}.{schema}.{table}"), pipelineID: "orders")
            #expect(report["topics"]?.status == .pass, "\(report)")
            #expect(report["topics"]?.detail.contains("popsink.orders.public.items") == true)

            // Nothing listens: the brokers check fails and the topics are not looked at.
            let closed = "127.0.0.1:\(freeLoopbackPort())"
            report = SinkChecker.run(kafka(closed, topic: "cdc.{pipeline}"), pipelineID: "orders")
            #expect(report["brokers"]?.status == .fail && report["topics"]?.status == .skip, "\(report)")
            #expect(report["brokers"]?.remediation?.contains("bootstrap_servers") == true)
        }

        @Test func webhookChecksTheConnectionAndASignedProbe() throws {
            let receiver = try WebhookReceiver(secret: Self.secret) { .accept }
            defer { receiver.stop() }
            func hook(_ url: String, secret: String = Self.secret, caFile: String? = nil) -> SinkConfig {
                SinkConfig(
                    name: "h",
                    target: .webhook(WebhookSettings(url: url, secret: secret, timeoutSeconds: 3, caFile: caFile)))
            }
            var report = SinkChecker.run(hook(receiver.url), pipelineID: "orders")
            #expect(statuses(report) == ["connect": .warn, "probe": .pass], "plain http is a warning: \(report)")
            #expect(report.passed)
            #expect(receiver.events.isEmpty, "the probe delivered nothing")

            report = SinkChecker.run(
                hook(receiver.url, secret: "another-secret-of-32-bytes-long!"), pipelineID: "orders")
            #expect(report["probe"]?.status == .warn && report["probe"]?.detail.contains("401") == true, "\(report)")

            receiver.setBehaviour { .fail(503) }
            report = SinkChecker.run(hook(receiver.url), pipelineID: "orders")
            #expect(report["probe"]?.status == .warn && report["probe"]?.detail.contains("503") == true, "\(report)")

            let closed = "http://127.0.0.1:\(freeLoopbackPort())/hook"
            report = SinkChecker.run(hook(closed), pipelineID: "orders")
            #expect(statuses(report) == ["connect": .fail, "probe": .skip], "\(report)")

            let https = try HTTPSReceiver()
            defer { https.stop() }
            report = SinkChecker.run(hook(https.url, caFile: https.certificate), pipelineID: "orders")
            #expect(report["connect"]?.status == .pass, "verified through ca_file: \(report)")
            report = SinkChecker.run(hook(https.url), pipelineID: "orders")
            #expect(report["connect"]?.status == .fail, "a certificate no trusted CA signed: \(report)")
            #expect(report["connect"]?.remediation?.contains("ca_file") == true)
        }

        @Test(.timeLimit(.minutes(5)))
        func theCheckRouteRunsWithTheStoredSettingsSecretsIncluded() async throws {
            let postgres = try await TestPostgres.shared()
            let receiver = try WebhookReceiver(secret: Self.secret) { .accept }
            defer { receiver.stop() }
            let service = try APIService()
            do {
                let sourceID = try await service.registerSource(postgres, database: "postgres")
                let put = try await service.call(
                    "PUT", "/v1/pipelines/checked",
                    json: [
                        "source_id": sourceID,
                        "sinks": [["name": "hook", "type": "webhook", "url": receiver.url, "secret": Self.secret]],
                    ])
                #expect(put.status == 201, "\(put.raw)")
                let check = try await service.call("POST", "/v1/pipelines/checked/sinks/hook/check")
                #expect(check.status == 200, "\(check.raw)")
                #expect(check.object["passed"] as? Bool == true, "\(check.raw)")
                #expect(check.object["type"] as? String == "webhook" && check.object["sink"] as? String == "hook")
                let checks = check.object["checks"] as? [[String: Any]] ?? []
                #expect(checks.compactMap { $0["id"] as? String } == ["connect", "probe"], "\(check.raw)")
                // The stored secret signed the probe: the receiver accepted it.
                #expect(checks.last?["status"] as? String == "pass", "\(check.raw)")
                #expect(checks.allSatisfy { $0.keys.contains("remediation") })
                #expect(!check.raw.contains(Self.secret))

                let missing = try await service.call("POST", "/v1/pipelines/checked/sinks/nope/check")
                #expect(missing.status == 404 && missing.raw.contains("hook"), "\(missing.raw)")
                #expect(try await service.call("POST", "/v1/pipelines/absent/sinks/hook/check").status == 404)
                #expect(try await service.call("GET", "/v1/pipelines/checked/sinks/hook/check").status == 405)
                _ = try await service.call("DELETE", "/v1/pipelines/checked")
            } catch {
                await service.stop()
                throw error
            }
            await service.stop()
        }
    }
}
