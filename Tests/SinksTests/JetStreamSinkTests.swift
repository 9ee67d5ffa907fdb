// The JetStream sink against a real nats-server: crashes of the forwarder at
// random moments and a server outage, then the stream compared with the store.

import EventStore
import Foundation
import Testing

@testable import Sinks

extension SinkSuites {
    @Suite("JetStream sink", .serialized)
    struct JetStreamSinkTests {
        private func config(_ server: NATSServer, stream: String = "POPSINK") -> SinkConfig {
            SinkConfig(
                name: "test",
                target: .jetstream(JetStreamSettings(servers: [server.url], stream: stream, ackTimeoutSeconds: 3)),
                batchSize: 200)
        }

        private func forwarder(_ store: StoreFixture, _ config: SinkConfig) -> SinkForwarder {
            SinkForwarder(
                config: config, pipelineID: "orders", storePath: store.storePath, positionPath: store.positionPath,
                idleWait: 0.05)
        }

        @Test func deliversEveryEventOnceInStoreOrderOnItsTableSubject() throws {
            let server = try NATSServer()
            let store = try StoreFixture()
            let last = try store.append(1000)
            let sink = forwarder(store, config(server))
            sink.start()
            #expect(sink.waitUntilDelivered(last, timeout: 30))
            sink.stop()

            let contents = try server.streamContents("POPSINK")
            let stored = try store.storedEvents()
            #expect(contents.count == stored.count)
            #expect(contents.map(\.id).elementsEqual(stored.map(\.id.description)), "the stream is the store, in order")
            #expect(
                contents.first?.subject
                    == "popsink.orders.public.\(stored[0].table == "orders" ? "orders" : "line_items")")
            #expect(
                Set(contents.map(\.subject)) == ["popsink.orders.public.orders", "popsink.orders.public.line_items"])
            #expect(contents.allSatisfy { $0.op == "u" })
            #expect(sink.status.deliveredTotal == last)
            #expect(sink.status.backlogEvents == 0)
            // Retention keeps what the sink has not delivered: it is a named consumer of the store.
            let consumers = try EventStoreConsumers(path: store.storePath)
            defer { consumers.close() }
            #expect(try consumers.consumer("sink.test")?.ackedSequence == last)
        }

        @Test func crashesAndAnOutageNeitherSkipNorRepeatAnEvent() throws {
            let server = try NATSServer()
            let store = try StoreFixture()
            var generator = SystemRandomNumberGenerator()
            try store.append(500)
            for round in 0..<8 {
                let sink = forwarder(store, config(server))
                sink.start()
                try store.append(Int.random(in: 100...600, using: &generator))
                sink.durable(upTo: store.lastSequence)
                if round == 3 {
                    // The server goes away mid-stream and comes back on the same port and store.
                    Thread.sleep(forTimeInterval: Double.random(in: 0...0.05, using: &generator))
                    server.stop(signal: SIGKILL)
                    try store.append(300)
                    sink.durable(upTo: store.lastSequence)
                    // The failure is counted, however long a loaded machine takes to see it.
                    let deadline = Date().addingTimeInterval(60)
                    while sink.status.errors.values.reduce(0, +) == 0, Date() < deadline {
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                    #expect(sink.status.errors.values.reduce(0, +) > 0)
                    try server.start()
                }
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.2, using: &generator))
                sink.crash()
            }
            let sink = forwarder(store, config(server))
            sink.start()
            #expect(sink.waitUntilDelivered(store.lastSequence, timeout: 60))
            sink.stop()

            let contents = try server.streamContents("POPSINK").map(\.id)
            let stored = try store.storedEvents().map(\.id.description)
            #expect(contents.count == stored.count)
            #expect(Set(contents).count == contents.count, "an event is in the stream twice")
            let mismatch = zip(contents, stored).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(mismatch == nil, "the stream departs from the store at \(String(describing: mismatch))")
        }

        @Test func anR3StreamLosesANodeMidRunAndHoldsEveryEventOnce() throws {
            let cluster = try NATSCluster()
            let store = try StoreFixture()
            try store.append(500)
            let config = SinkConfig(
                name: "test",
                target: .jetstream(
                    JetStreamSettings(servers: cluster.urls, stream: "R3", replicas: 3, ackTimeoutSeconds: 3)),
                batchSize: 200)
            let make = {
                SinkForwarder(
                    config: config, pipelineID: "orders", storePath: store.storePath, positionPath: store.positionPath,
                    idleWait: 0.05)
            }
            var sink = make()
            sink.start()
            #expect(sink.waitUntilDelivered(500, timeout: 60))
            for round in 0..<4 {
                try store.append(400)
                sink.durable(upTo: store.lastSequence)
                if round == 1 {
                    // The node the client connects to first dies; the stream keeps its quorum on the other two.
                    Thread.sleep(forTimeInterval: Double.random(in: 0...0.05))
                    cluster.nodes[0].stop(signal: SIGKILL)
                }
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.2))
                sink.crash()
                sink = make()
                sink.start()
            }
            #expect(sink.waitUntilDelivered(store.lastSequence, timeout: 90), "\(sink.status)")
            sink.stop()
            let contents = try cluster.nodes[1].streamContents("R3").map(\.id)
            let stored = try store.storedEvents().map(\.id.description)
            #expect(contents.count == stored.count)
            #expect(Set(contents).count == contents.count, "an event is in the stream twice")
            #expect(contents.elementsEqual(stored), "the stream is the store, in order")
        }

        @Test func aStreamEndingInAnEventRetentionDeletedResumesAfterIt() throws {
            let server = try NATSServer()
            let store = try StoreFixture()
            try store.append(100)
            let sink = forwarder(store, config(server))
            sink.start()
            #expect(sink.waitUntilDelivered(100, timeout: 30))
            sink.stop()
            // Retention deletes what was delivered, and the sink's own position is lost.
            try store.deleteEvents(upTo: 100)
            try FileManager.default.removeItem(atPath: store.positionPath)
            let last = try store.append(30)
            let again = forwarder(store, config(server))
            again.start()
            #expect(again.waitUntilDelivered(last, timeout: 30))
            again.stop()
            #expect(again.status.lostEvents == 0)
            #expect(try server.streamContents("POPSINK").count == 130)
        }

        @Test func aStreamEndingInAnUnknownEventParksTheSink() throws {
            let server = try NATSServer()
            let first = try StoreFixture()
            try first.append(50)
            let sink = forwarder(first, config(server))
            sink.start()
            #expect(sink.waitUntilDelivered(50, timeout: 30))
            sink.stop()

            // Another store (a reset one) pointed at the same stream.
            let second = try StoreFixture()
            try second.append(10)
            let other = forwarder(second, config(server))
            other.start()
            #expect(eventually(10) { other.status.state == .parked })
            #expect(other.status.lastError?.contains("does not hold") == true)
            #expect(other.status.errors[.diverged] == 1)
            other.stop()
        }
    }
}
