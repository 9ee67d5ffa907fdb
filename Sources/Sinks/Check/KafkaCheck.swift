// The Kafka sink's checks: the brokers answer a metadata request with the
// sink's own client settings (so TLS and SASL are exercised), and the topics
// the sink will produce to exist. Nothing is produced: a test message would
// become the last message of a partition, which the resume reads back.

import CRdKafka

struct KafkaCheck {
    let settings: KafkaSettings
    let pipelineID: String

    private var timeoutMilliseconds: Int32 { Int32(min(settings.deliveryTimeoutSeconds, 10) * 1000) }

    func run() -> [SinkCheckResult] {
        let errors = KafkaClientErrors()
        let client: OpaquePointer
        do {
            client = try KafkaTarget.handle(
                RD_KAFKA_PRODUCER, KafkaTarget.producerProperties(settings), deliveries: nil, errors: errors)
        } catch {
            return [
                .init(
                    id: "brokers", title: "Brokers", status: .fail, detail: error.message,
                    remediation:
                        "Fix the property named above in properties (librdkafka's CONFIGURATION.md lists them)."),
                .skipped("topics", "Topics", because: "no Kafka client could be made"),
            ]
        }
        defer { rd_kafka_destroy(client) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(client, 1, nil, &metadata, timeoutMilliseconds)
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        rd_kafka_poll(client, 0)  // serves the error callback
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            let reported = errors.reported.withLock { $0 }
            let why = reported.isEmpty ? "" : " (\(reported.prefix(3).joined(separator: "; ")))"
            let authentication = reported.contains {
                $0.contains("AUTHENTICATION") || $0.contains("SASL") || $0.contains("SSL")
            }
            return [
                .init(
                    id: "brokers", title: "Brokers", status: .fail,
                    detail:
                        "No metadata from \(settings.bootstrapServers): \(String(cString: rd_kafka_err2str(error)))\(why)",
                    remediation: authentication
                        ? "Check security.protocol and the sasl.* and ssl.* properties against the brokers' listeners."
                        : "Check bootstrap_servers: the brokers must run and be reachable from this machine; for TLS or SASL listeners set security.protocol and its properties."
                ),
                .skipped("topics", "Topics", because: "the brokers did not answer"),
            ]
        }
        let brokers = (0..<Int(metadata.pointee.broker_cnt)).map { index in
            let broker = metadata.pointee.brokers[index]
            return "\(broker.host.map { String(cString: $0) } ?? "?"):\(broker.port)"
        }
        var topics: [String: Int32] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR, let name = topic.topic else { continue }
            topics[String(cString: name)] = topic.partition_cnt
        }
        return [
            .init(
                id: "brokers", title: "Brokers", status: .pass,
                detail: "\(brokers.count) brokers answered (\(brokers.sorted().joined(separator: ", "))).")
        ] + [topicsResult(topics)]
    }

    /// Whether the topics the template names exist.
    private func topicsResult(_ existing: [String: Int32]) -> SinkCheckResult {
        let marker = "\u{1}"
        let pattern = NameTemplate(template: settings.topic).expand(
            pipeline: pipelineID, schema: marker, table: marker,
            sanitize: { $0 == marker ? $0 : KafkaSettings.topicName($0) })
        let pieces = pattern.components(separatedBy: marker)
        if pieces.count == 1 {
            if let partitions = existing[pattern] {
                return .init(
                    id: "topics", title: "Topics", status: .pass,
                    detail: "The topic \(pattern) exists with \(partitions) partitions.")
            }
            return .init(
                id: "topics", title: "Topics", status: .warn,
                detail:
                    "The topic \(pattern) does not exist: the sink fails unless the brokers create topics on first use.",
                remediation:
                    "Create it: kafka-topics.sh --bootstrap-server \(settings.bootstrapServers) --create --topic \(pattern) (or set auto.create.topics.enable=true on the brokers)."
            )
        }
        let matching = existing.keys.filter { Self.matches($0, pieces) }.sorted()
        let example = pieces.joined(separator: "<table>")
        if matching.isEmpty {
            return .init(
                id: "topics", title: "Topics", status: .warn,
                detail:
                    "No topic matches \(pieces.joined(separator: "*")) yet: the sink produces to one topic per table (\(example)), which must exist or be created on first use.",
                remediation:
                    "Create a topic per captured table with kafka-topics.sh --create, or set auto.create.topics.enable=true on the brokers."
            )
        }
        return .init(
            id: "topics", title: "Topics", status: .pass,
            detail:
                "\(matching.count) topics match \(pieces.joined(separator: "*")): \(matching.prefix(20).joined(separator: ", ")). Tables without one need it created, or auto-creation on the brokers."
        )
    }

    /// Whether `name` is the template's pieces with anything between them.
    static func matches(_ name: String, _ pieces: [String]) -> Bool {
        guard let first = pieces.first, let last = pieces.last, name.hasPrefix(first),
            name.count >= first.count + last.count,
            name.hasSuffix(last)
        else { return false }
        var rest = name.dropFirst(first.count).dropLast(last.count)
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let found = rest.range(of: piece) else { return false }
            rest = rest[found.upperBound...]
        }
        return true
    }
}
