// The webhook sink against a receiver that fails, stalls and resets at
// random, with crashes of the forwarder: the receiver, dropping ids it has
// already seen, ends up with every event once, in store order.

import Foundation
import Testing

@testable import Sinks

extension SinkSuites {
    @Suite("Webhook sink", .serialized)
    struct WebhookSinkTests {
        static let secret = "a-shared-secret-of-32-bytes-long"

        private func forwarder(_ store: StoreFixture, _ receiver: WebhookReceiver) -> SinkForwarder {
            let config = SinkConfig(
                name: "test",
                target: .webhook(WebhookSettings(url: receiver.url, secret: Self.secret, timeoutSeconds: 0.4)),
                batchSize: 100)
            return SinkForwarder(
                config: config, pipelineID: "orders", storePath: store.storePath, positionPath: store.positionPath,
                idleWait: 0.05)
        }

        @Test func aFlakyReceiverAndCrashesEndWithEveryEventOnceInOrder() throws {
            let receiver = try WebhookReceiver(secret: Self.secret) {
                switch Int.random(in: 0..<10) {
                case 0, 1: .fail(503)
                case 2: .stall
                case 3: .reset
                default: .accept
                }
            }
            defer { receiver.stop() }
            let store = try StoreFixture()
            try store.append(300)
            for _ in 0..<5 {
                let sink = forwarder(store, receiver)
                sink.start()
                try store.append(Int.random(in: 50...300))
                sink.durable(upTo: store.lastSequence)
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.3))
                sink.crash()
            }
            receiver.setBehaviour { .accept }
            let sink = forwarder(store, receiver)
            sink.start()
            #expect(sink.waitUntilDelivered(store.lastSequence, timeout: 60))
            let status = sink.status
            sink.stop()

            let stored = try store.storedEvents().map(\.id.description)
            let kept = receiver.events
            #expect(kept.count == stored.count)
            #expect(kept.elementsEqual(stored), "the receiver holds the store, in order")
            #expect(receiver.signatureFailures == 0)
            #expect(status.backlogEvents == 0)
        }

        @Test func aFlakyReceiverIsRetriedAndEachErrorCounted() throws {
            let receiver = try WebhookReceiver(secret: Self.secret) { .fail(503) }
            defer { receiver.stop() }
            let store = try StoreFixture()
            let last = try store.append(50)
            let sink = forwarder(store, receiver)
            sink.start()
            #expect(eventually(10) { (sink.status.errors[.rejected] ?? 0) >= 2 })
            #expect(sink.status.deliveredSequence == 0)
            // Between two attempts; during one it reads `running`.
            #expect(eventually(10) { sink.status.state == .retrying })
            receiver.setBehaviour { .accept }
            #expect(sink.waitUntilDelivered(last, timeout: 40))
            sink.stop()
            #expect(receiver.events.count == 50)
        }

        @Test func aClientErrorParksTheSinkWithTheStatusInItsError() throws {
            let receiver = try WebhookReceiver(secret: Self.secret) { .fail(422) }
            defer { receiver.stop() }
            let store = try StoreFixture()
            try store.append(10)
            let sink = forwarder(store, receiver)
            sink.start()
            #expect(eventually(10) { sink.status.state == .parked })
            #expect(sink.status.lastError?.contains("422") == true)
            #expect(sink.status.errors[.refused] == 1)
            let requests = receiver.requestCount
            Thread.sleep(forTimeInterval: 0.3)
            #expect(receiver.requestCount == requests, "a parked sink sends nothing more")
            sink.stop()
            #expect(sink.status.deliveredSequence == 0)
        }

        @Test func anHTTPSReceiverTrustedThroughItsCAGetsEveryEventOnce() throws {
            let receiver = try HTTPSReceiver()
            defer { receiver.stop() }
            let store = try StoreFixture()
            let last = try store.append(120)
            let config = SinkConfig(
                name: "tls",
                target: .webhook(
                    WebhookSettings(
                        url: receiver.url, secret: Self.secret, timeoutSeconds: 5, caFile: receiver.certificate)),
                batchSize: 50)
            #expect(config.violations().isEmpty, "\(config.violations())")
            let sink = SinkForwarder(
                config: config, pipelineID: "orders", storePath: store.storePath, positionPath: store.positionPath,
                idleWait: 0.05)
            sink.start()
            #expect(sink.waitUntilDelivered(last, timeout: 60), "\(sink.status.summary)")
            sink.stop()
            #expect(receiver.events == (try store.storedEvents().map(\.id.description)))
        }

        @Test func anHTTPSReceiverWhoseCertificateDoesNotVerifyParksTheSink() throws {
            let receiver = try HTTPSReceiver()
            defer { receiver.stop() }
            let store = try StoreFixture()
            try store.append(10)
            // The system's CAs did not sign the receiver's certificate.
            let config = SinkConfig(
                name: "untrusted",
                target: .webhook(WebhookSettings(url: receiver.url, secret: Self.secret, timeoutSeconds: 5)))
            let sink = SinkForwarder(
                config: config, pipelineID: "orders", storePath: store.storePath, positionPath: store.positionPath,
                idleWait: 0.05)
            sink.start()
            #expect(eventually(20) { sink.status.state == .parked }, "\(sink.status.summary)")
            #expect(sink.status.lastError?.contains("does not verify") == true, "\(sink.status.summary)")
            sink.stop()
            #expect(receiver.events.isEmpty)
        }
    }
}
