// librdkafka's built-in mock cluster (three brokers on loopback, inside this
// process), with topics created up front and a consumer that reads every
// partition back for the checks.

import CRdKafka
import Foundation

final class KafkaMockCluster {
    private let host: OpaquePointer
    let cluster: OpaquePointer
    let bootstrapServers: String

    init(brokers: Int32 = 3) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        let conf = rd_kafka_conf_new()
        rd_kafka_conf_set(conf, "log_level", "3", &errorText, errorText.count)
        guard let host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            throw TestFailure("cannot create the handle that hosts the mock cluster")
        }
        guard let cluster = rd_kafka_mock_cluster_new(host, brokers) else { throw TestFailure("no mock cluster") }
        self.host = host
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 3) {
        rd_kafka_mock_topic_create(cluster, name, partitions, replicationFactor)
    }

    func setBroker(_ id: Int32, up: Bool) {
        if up { rd_kafka_mock_broker_set_up(cluster, id) } else { rd_kafka_mock_broker_set_down(cluster, id) }
    }

    /// Makes the next `count` requests of Kafka API `apiKey` (0: Produce) fail with `error`, on any broker.
    func failRequests(apiKey: Int16, count: Int, with error: rd_kafka_resp_err_t) {
        let errors = [rd_kafka_resp_err_t](repeating: error, count: count)
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, count, errors)
    }

    /// Every message of every partition of `topic`: partition → event ids in offset order.
    func contents(of topic: String, partitions: Int32) throws -> [Int32: [String]] {
        var errorText = [CChar](repeating: 0, count: 512)
        let conf = rd_kafka_conf_new()
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstrapServers, &errorText, errorText.count)
        rd_kafka_conf_set(conf, "group.id", "check", &errorText, errorText.count)
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", &errorText, errorText.count)
        guard let consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errorText, errorText.count) else {
            throw TestFailure("cannot create a consumer")
        }
        defer { rd_kafka_destroy(consumer) }
        let handle = rd_kafka_topic_new(consumer, topic, nil)
        defer { rd_kafka_topic_destroy(handle) }
        var result: [Int32: [String]] = [:]
        for partition in 0..<partitions {
            var low: Int64 = 0
            var high: Int64 = 0
            guard
                rd_kafka_query_watermark_offsets(consumer, topic, partition, &low, &high, 10_000)
                    == RD_KAFKA_RESP_ERR_NO_ERROR
            else { throw TestFailure("no offsets for \(topic)[\(partition)]") }
            // The mock keeps a few MB per partition and drops the oldest messages past that.
            guard low == 0 else {
                throw TestFailure(
                    "the mock cluster dropped \(low) old messages of \(topic)[\(partition)]: the test wrote too much")
            }
            var ids: [String] = []
            if high > low {
                rd_kafka_consume_start(handle, partition, low)
                let deadline = Date(timeIntervalSinceNow: 30)
                while Int64(ids.count) < high - low, Date() < deadline {
                    guard let message = rd_kafka_consume(handle, partition, 1000) else { continue }
                    defer { rd_kafka_message_destroy(message) }
                    guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                    var headers: OpaquePointer?
                    var value: UnsafeRawPointer?
                    var size = 0
                    rd_kafka_message_headers(message, &headers)
                    rd_kafka_header_get_last(headers, "popsink-event-id", &value, &size)
                    ids.append(
                        value.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: size), as: UTF8.self) }
                            ?? "")
                }
                rd_kafka_consume_stop(handle, partition)
            }
            result[partition] = ids
        }
        return result
    }
}
