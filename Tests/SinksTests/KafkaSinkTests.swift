// The Kafka sink against librdkafka's mock cluster: crashes of the forwarder
// at random moments and a broker failure, then every partition compared with
// the store: each event once, in its key's partition, in store order.

import CRdKafka
import Foundation
import Testing

@testable import Sinks

extension SinkSuites {
    @Suite("Kafka sink", .serialized)
    struct KafkaSinkTests {
        static let partitions: Int32 = 4
        static let topics = ["popsink.orders.public.orders", "popsink.orders.public.line_items"]

        private func forwarder(_ store: StoreFixture, _ cluster: KafkaMockCluster) -> SinkForwarder {
            let config = SinkConfig(
                name: "test",
                target: .kafka(KafkaSettings(bootstrapServers: cluster.bootstrapServers, deliveryTimeoutSeconds: 5)),
                batchSize: 200)
            return SinkForwarder(
                config: config, pipelineID: "orders", storePath: store.storePath, positionPath: store.positionPath,
                idleWait: 0.05)
        }

        /// Checks each partition against the store: what belongs there, once, in store order.
        private func expectMatchesStore(_ store: StoreFixture, _ cluster: KafkaMockCluster) throws {
            let stored = try store.storedEvents()
            var expected: [String: [Int32: [String]]] = [:]
            for event in stored {
                let topic = event.table == "orders" ? Self.topics[0] : Self.topics[1]
                let partition = KafkaPartition.murmur2(event.orderingKey, partitions: Self.partitions)
                expected[topic, default: [:]][partition, default: []].append(event.id.description)
            }
            for topic in Self.topics {
                let contents = try cluster.contents(of: topic, partitions: Self.partitions)
                for partition in 0..<Self.partitions {
                    let held = contents[partition] ?? []
                    #expect(Set(held).count == held.count, "\(topic)[\(partition)] holds an event twice")
                    #expect(held == (expected[topic]?[partition] ?? []), "\(topic)[\(partition)]")
                }
            }
        }

        @Test func deliversEveryEventOnceToItsKeysPartition() throws {
            let cluster = try KafkaMockCluster()
            for topic in Self.topics { cluster.createTopic(topic, partitions: Self.partitions) }
            let store = try StoreFixture()
            let last = try store.append(1000)
            let sink = forwarder(store, cluster)
            sink.start()
            #expect(sink.waitUntilDelivered(last, timeout: 60))
            sink.stop()
            try expectMatchesStore(store, cluster)
        }

        @Test func crashesAndABrokerFailureNeitherSkipNorRepeatAnEvent() throws {
            let cluster = try KafkaMockCluster()
            for topic in Self.topics { cluster.createTopic(topic, partitions: Self.partitions) }
            let store = try StoreFixture()
            var generator = SystemRandomNumberGenerator()
            try store.append(400)
            for round in 0..<6 {
                let sink = forwarder(store, cluster)
                sink.start()
                try store.append(Int.random(in: 100...500, using: &generator))
                sink.durable(upTo: store.lastSequence)
                if round == 2 {
                    // A broker fails mid-run and comes back: partitions it leads stall, then resume.
                    cluster.setBroker(1, up: false)
                    try store.append(300)
                    sink.durable(upTo: store.lastSequence)
                    Thread.sleep(forTimeInterval: 1)
                    cluster.setBroker(1, up: true)
                }
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.3, using: &generator))
                sink.crash()
            }
            let sink = forwarder(store, cluster)
            sink.start()
            #expect(sink.waitUntilDelivered(store.lastSequence, timeout: 90))
            sink.stop()
            try expectMatchesStore(store, cluster)
        }

        /// What the check does not prove (produce permission) shows at the
        /// first delivery, loudly, and the sink goes on once it is granted.
        @Test func aTopicTheUserMayNotProduceToPassesTheCheckAndFailsTheDeliveryVisibly() throws {
            let cluster = try KafkaMockCluster()
            for topic in Self.topics { cluster.createTopic(topic, partitions: Self.partitions) }
            let store = try StoreFixture()
            let last = try store.append(300)
            let sink = forwarder(store, cluster)
            let report = SinkChecker.run(sink.config, pipelineID: "orders")
            #expect(report.passed, "\(report)")
            #expect(report.checks.map(\.id) == ["brokers", "topics"])

            // The brokers refuse produce requests until the ACL is granted (the errors run out).
            // Few of them: nothing is delivered until they are used up, each refusal costs the
            // sink a backoff (up to 30 s), and on a loaded machine an attempt may use only one.
            cluster.failRequests(apiKey: 0, count: 6, with: RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
            sink.start()
            let denied = eventually(30) {
                sink.status.lastError?.contains("Topic authorization failed") == true
            }
            #expect(denied, "\(sink.status)")
            #expect(sink.status.errors[.rejected, default: 0] >= 1, "\(sink.status)")
            #expect(sink.waitUntilDelivered(last, stalledFor: 180), "\(sink.status)")
            sink.stop()
            try expectMatchesStore(store, cluster)
        }
    }
}
