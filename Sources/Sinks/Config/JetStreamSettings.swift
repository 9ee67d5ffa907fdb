// Settings of a NATS JetStream sink. The stream is the sink's own: it holds
// only this pipeline's subjects, which is what lets the sink read back the
// last message it holds and publish each message with the stream's expected
// last sequence.

/// A JetStream target.
public struct JetStreamSettings: Sendable, Hashable, Codable {
    /// Server URLs, `nats://host:port`; the client connects to the first that answers.
    public var servers: [String]
    /// The stream to create or check at start.
    public var stream: String
    /// `{pipeline}`, `{schema}` and `{table}` are replaced (dots and wildcards in names become `_`).
    public var subject: String
    /// `limits` (default), `interest` or `workqueue`.
    public var retention: String
    public var replicas: Int
    /// JetStream's duplicate window, a second guard behind the read-back resume.
    public var duplicateWindowSeconds: Int
    /// Create the stream when it does not exist (otherwise its absence is an error).
    public var createStream: Bool
    /// How long to wait for the acknowledgements of one batch.
    public var ackTimeoutSeconds: Double

    public init(
        servers: [String], stream: String = "POPSINK", subject: String = "popsink.{pipeline}.{schema}.{table}",
        retention: String = "limits", replicas: Int = 1, duplicateWindowSeconds: Int = 120, createStream: Bool = true,
        ackTimeoutSeconds: Double = 10
    ) {
        self.servers = servers
        self.stream = stream
        self.subject = subject
        self.retention = retention
        self.replicas = replicas
        self.duplicateWindowSeconds = duplicateWindowSeconds
        self.createStream = createStream
        self.ackTimeoutSeconds = ackTimeoutSeconds
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case servers, stream, subject, retention, replicas
        case duplicateWindowSeconds = "duplicate_window_seconds"
        case createStream = "create_stream"
        case ackTimeoutSeconds = "ack_timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = JetStreamSettings(servers: [])
        servers = try c.decode([String].self, forKey: .servers)
        stream = try c.decodeIfPresent(String.self, forKey: .stream) ?? defaults.stream
        subject = try c.decodeIfPresent(String.self, forKey: .subject) ?? defaults.subject
        retention = try c.decodeIfPresent(String.self, forKey: .retention) ?? defaults.retention
        replicas = try c.decodeIfPresent(Int.self, forKey: .replicas) ?? defaults.replicas
        duplicateWindowSeconds =
            try c.decodeIfPresent(Int.self, forKey: .duplicateWindowSeconds)
            ?? defaults.duplicateWindowSeconds
        createStream = try c.decodeIfPresent(Bool.self, forKey: .createStream) ?? defaults.createStream
        ackTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .ackTimeoutSeconds) ?? defaults.ackTimeoutSeconds
    }

    func violations() -> [String] {
        var problems: [String] = []
        if servers.isEmpty || servers.contains(where: { !$0.hasPrefix("nats://") && !$0.hasPrefix("tls://") }) {
            problems.append("servers must list at least one nats://host:port URL")
        }
        if stream.isEmpty || stream.contains(where: { " .*>".contains($0) }) {
            problems.append("stream must be a name without spaces, '.', '*' or '>'")
        }
        if subject.isEmpty || subject.hasSuffix(".") || subject.hasPrefix(".") {
            problems.append("subject must be a subject template such as popsink.{pipeline}.{schema}.{table}")
        }
        if !["limits", "interest", "workqueue"].contains(retention) {
            problems.append("retention must be limits, interest or workqueue")
        }
        if ![1, 3, 5].contains(replicas) { problems.append("replicas must be 1, 3 or 5") }
        if duplicateWindowSeconds < 0 { problems.append("duplicate_window_seconds must not be negative") }
        if !(ackTimeoutSeconds > 0) { problems.append("ack_timeout_seconds must be positive") }
        return problems
    }

    /// A subject token: NATS splits subjects on `.`, and `*`, `>` and whitespace are not allowed in one.
    static func subjectToken(_ name: String) -> String {
        String(name.map { " \t.*>".contains($0) ? "_" : $0 })
    }

    /// The subjects the stream must take: the template with each placeholder as a wildcard.
    func streamSubject(pipeline: String) -> String {
        var tokens = subject.split(separator: ".", omittingEmptySubsequences: false).map { token -> String in
            token == "{pipeline}" ? Self.subjectToken(pipeline) : (token.contains("{") ? "*" : String(token))
        }
        // `a.*.*` on a template that ends in placeholders reads better as `a.>`.
        if let first = tokens.firstIndex(of: "*"), tokens[first...].allSatisfy({ $0 == "*" }) {
            tokens.replaceSubrange(first..., with: [">"])
        }
        return tokens.joined(separator: ".")
    }

    func subject(pipeline: String, event: SinkEvent) -> String {
        NameTemplate(template: subject).expand(
            pipeline: pipeline, schema: event.schema, table: event.table, sanitize: Self.subjectToken)
    }
}
