// Settings of a Kafka sink. The producer's delivery guarantees are fixed
// (idempotent, acks=all); everything else librdkafka knows (SASL, TLS,
// timeouts) passes through `properties` unchanged.

/// A Kafka target.
public struct KafkaSettings: Sendable, Hashable, Codable {
    /// `host:port,host:port`.
    public var bootstrapServers: String
    /// `{pipeline}`, `{schema}` and `{table}` are replaced (characters Kafka refuses in topic names become `_`).
    public var topic: String
    /// librdkafka configuration properties, such as `security.protocol`,
    /// `sasl.mechanism`, `sasl.username`, `ssl.ca.location`.
    public var properties: [String: String]
    /// How long one batch may wait for its delivery reports.
    public var deliveryTimeoutSeconds: Double

    public init(
        bootstrapServers: String, topic: String = "popsink.{pipeline}.{schema}.{table}",
        properties: [String: String] = [:], deliveryTimeoutSeconds: Double = 30
    ) {
        self.bootstrapServers = bootstrapServers
        self.topic = topic
        self.properties = properties
        self.deliveryTimeoutSeconds = deliveryTimeoutSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case bootstrapServers = "bootstrap_servers"
        case topic, properties
        case deliveryTimeoutSeconds = "delivery_timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bootstrapServers = try c.decode(String.self, forKey: .bootstrapServers)
        topic = try c.decodeIfPresent(String.self, forKey: .topic) ?? "popsink.{pipeline}.{schema}.{table}"
        properties = try c.decodeIfPresent([String: String].self, forKey: .properties) ?? [:]
        deliveryTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .deliveryTimeoutSeconds) ?? 30
    }

    /// Properties the sink sets itself: overriding them would break its guarantees.
    static let fixedProperties: Set<String> = [
        "bootstrap.servers", "enable.idempotence", "acks", "request.required.acks",
        "max.in.flight.requests.per.connection", "max.in.flight", "partitioner",
    ]

    func violations() -> [String] {
        var problems: [String] = []
        if bootstrapServers.isEmpty { problems.append("bootstrap_servers must list at least one host:port") }
        if topic.isEmpty {
            problems.append("topic must be a topic template such as popsink.{pipeline}.{schema}.{table}")
        }
        let fixed = properties.keys.filter(Self.fixedProperties.contains).sorted()
        if !fixed.isEmpty {
            problems.append("properties may not set \(fixed.joined(separator: ", ")): the sink sets them")
        }
        if !(deliveryTimeoutSeconds > 0) { problems.append("delivery_timeout_seconds must be positive") }
        return problems
    }

    /// Kafka topic names take letters, digits, `.`, `_` and `-`.
    static func topicName(_ name: String) -> String {
        String(
            name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "_" })
    }

    func topic(pipeline: String, event: SinkEvent) -> String {
        NameTemplate(template: topic).expand(
            pipeline: pipeline, schema: event.schema, table: event.table, sanitize: Self.topicName)
    }
}
