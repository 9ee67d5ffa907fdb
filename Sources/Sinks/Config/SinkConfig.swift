// A sink's settings, shaped as the API's `sinks[]` entries will be
// (`{"name":…,"type":"jetstream"|"kafka"|"webhook",…}`), so the pipeline
// resource, the state store and `run --sink` share one Codable type.

import Foundation

/// One sink of a pipeline.
public struct SinkConfig: Sendable, Hashable, Codable {
    /// Unique within the pipeline: names the position file and the metric series.
    public var name: String
    public var target: SinkTargetSettings
    /// Events read from the store and sent per round; also the bound on
    /// messages in flight (published, not yet acknowledged).
    public var batchSize: Int
    /// What the pipeline confirms to Postgres while this sink is behind.
    public var confirm: Confirm

    /// When a change counts as safe enough for Postgres to forget it.
    public enum Confirm: String, Sendable, Hashable, Codable, CaseIterable {
        /// Once it is durable in the local store (the pipeline's default).
        case stored
        /// Once this sink's target has acknowledged it too, so losing the
        /// local disk loses nothing Postgres would not send again.
        case delivered
    }

    public init(name: String, target: SinkTargetSettings, batchSize: Int = 500, confirm: Confirm = .stored) {
        self.name = name
        self.target = target
        self.batchSize = batchSize
        self.confirm = confirm
    }

    /// `jetstream`, `kafka` or `webhook`.
    public var type: String { target.type }

    /// What is wrong with these settings, empty when they can work.
    public func violations() -> [String] {
        var problems: [String] = []
        if !Self.isValidName(name) { problems.append("name must be 1 to 64 letters, digits, '_' or '-'") }
        if !(1...10_000).contains(batchSize) { problems.append("batch_size must be between 1 and 10000") }
        problems += target.violations()
        return problems
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x5F || byte == 0x2D
            }
    }

    enum CodingKeys: String, CodingKey {
        case name, type, confirm
        case batchSize = "batch_size"
    }

    /// The fields of a sink object common to every type.
    public static let commonFields: Set<String> = ["name", "type", "batch_size", "confirm"]

    /// The fields a sink object of `type` may have; nil for an unknown type.
    public static func fields(type: String) -> Set<String>? {
        switch type {
        case "jetstream": commonFields.union(JetStreamSettings.CodingKeys.allCases.map(\.rawValue))
        case "kafka": commonFields.union(KafkaSettings.CodingKeys.allCases.map(\.rawValue))
        case "webhook": commonFields.union(WebhookSettings.CodingKeys.allCases.map(\.rawValue))
        default: nil
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? 500
        confirm = try container.decodeIfPresent(Confirm.self, forKey: .confirm) ?? .stored
        switch try container.decode(String.self, forKey: .type) {
        case "jetstream": target = .jetstream(try JetStreamSettings(from: decoder))
        case "kafka": target = .kafka(try KafkaSettings(from: decoder))
        case "webhook": target = .webhook(try WebhookSettings(from: decoder))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container,
                debugDescription: "unknown sink type '\(other)': use jetstream, kafka or webhook")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(batchSize, forKey: .batchSize)
        try container.encode(confirm, forKey: .confirm)
        switch target {
        case .jetstream(let settings): try settings.encode(to: encoder)
        case .kafka(let settings): try settings.encode(to: encoder)
        case .webhook(let settings): try settings.encode(to: encoder)
        }
    }
}

/// Where a sink delivers.
public enum SinkTargetSettings: Sendable, Hashable {
    case jetstream(JetStreamSettings)
    case kafka(KafkaSettings)
    case webhook(WebhookSettings)

    public var type: String {
        switch self {
        case .jetstream: "jetstream"
        case .kafka: "kafka"
        case .webhook: "webhook"
        }
    }

    func violations() -> [String] {
        switch self {
        case .jetstream(let settings): settings.violations()
        case .kafka(let settings): settings.violations()
        case .webhook(let settings): settings.violations()
        }
    }
}

/// Expands `{pipeline}`, `{schema}` and `{table}` in a subject or topic
/// template, with each name made safe by `sanitize`.
struct NameTemplate: Sendable, Hashable {
    let template: String

    func expand(pipeline: String, schema: String?, table: String?, sanitize: (String) -> String) -> String {
        template
            .replacingOccurrences(of: "{pipeline}", with: sanitize(pipeline))
            .replacingOccurrences(of: "{schema}", with: sanitize(schema ?? "_"))
            .replacingOccurrences(of: "{table}", with: sanitize(table ?? "_"))
    }
}
