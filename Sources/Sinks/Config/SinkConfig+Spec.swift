// `run --sink <spec>`: the API's JSON object as it is, or a URL for the
// common cases. Secrets stay off the command line (where `ps` shows them):
// a webhook's secret comes from the environment.

import Foundation

extension SinkConfig {
    /// The variable that holds the secret of a webhook given as a URL.
    public static let webhookSecretVariable = "POPSINK_WEBHOOK_SECRET"

    /// Parses a `--sink` value:
    /// - `{"name":…,"type":…,…}`: the same object as the API's `sinks[]`;
    /// - `nats://host:port[,nats://host:port][?stream=S&subject=T&replicas=N&duplicate-window=SECONDS&batch-size=N&confirm=delivered&name=N]`;
    /// - `kafka://host:port[,host:port][?topic=T&batch-size=N&confirm=delivered&name=N&<librdkafka property>=value…]`;
    /// - `http://host:port/path`: a webhook signed with `$POPSINK_WEBHOOK_SECRET`.
    public init(spec: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(SinkError) {
        func invalid(_ message: String) -> SinkError { SinkError(.configuration, message, retryable: false) }
        if spec.hasPrefix("{") {
            do {
                self = try JSONDecoder().decode(SinkConfig.self, from: Data(spec.utf8))
            } catch {
                throw invalid("the sink's JSON is not a sink object: \(error)")
            }
        } else if spec.hasPrefix("http://") || spec.hasPrefix("https://") {
            guard let secret = environment[Self.webhookSecretVariable], !secret.isEmpty else {
                throw invalid("a webhook sink needs its signing secret in $\(Self.webhookSecretVariable)")
            }
            self.init(name: "webhook", target: .webhook(WebhookSettings(url: spec, secret: secret)))
        } else if spec.hasPrefix("nats://") || spec.hasPrefix("kafka://") {
            let queryStart = spec.firstIndex(of: "?") ?? spec.endIndex
            let hosts = String(spec[..<queryStart])
            var options: [String: String] = [:]
            if queryStart < spec.endIndex {
                for pair in spec[spec.index(after: queryStart)...].split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                    let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                    options[name] = value
                }
            }
            let name = options.removeValue(forKey: "name")
            let batchSize = try options.removeValue(forKey: "batch-size").map { (value) throws(SinkError) -> Int in
                guard let number = Int(value) else { throw invalid("batch-size=\(value) is not a number") }
                return number
            }
            let confirm = try options.removeValue(forKey: "confirm").map { (value) throws(SinkError) -> Confirm in
                guard let confirm = Confirm(rawValue: value) else {
                    throw invalid("confirm=\(value): use stored or delivered")
                }
                return confirm
            }
            if hosts.hasPrefix("nats://") {
                var settings = JetStreamSettings(
                    servers: hosts.split(separator: ",").map {
                        $0.hasPrefix("nats://") ? String($0) : "nats://\($0)"
                    })
                if let value = options.removeValue(forKey: "stream") { settings.stream = value }
                if let value = options.removeValue(forKey: "subject") { settings.subject = value }
                if let value = options.removeValue(forKey: "retention") { settings.retention = value }
                if let value = options.removeValue(forKey: "replicas") {
                    guard let number = Int(value) else { throw invalid("replicas=\(value) is not a number") }
                    settings.replicas = number
                }
                if let value = options.removeValue(forKey: "duplicate-window") {
                    guard let number = Int(value) else {
                        throw invalid("duplicate-window=\(value) is not a number of seconds")
                    }
                    settings.duplicateWindowSeconds = number
                }
                if let unknown = options.keys.sorted().first {
                    throw invalid(
                        "unknown JetStream sink option '\(unknown)': use stream, subject, retention, replicas, duplicate-window, batch-size, confirm, name"
                    )
                }
                self.init(
                    name: name ?? "jetstream", target: .jetstream(settings), batchSize: batchSize ?? 500,
                    confirm: confirm ?? .stored)
            } else {
                var settings = KafkaSettings(bootstrapServers: String(hosts.dropFirst("kafka://".count)))
                if let value = options.removeValue(forKey: "topic") { settings.topic = value }
                settings.properties = options
                self.init(
                    name: name ?? "kafka", target: .kafka(settings), batchSize: batchSize ?? 500,
                    confirm: confirm ?? .stored)
            }
        } else {
            throw invalid("'\(spec)' is not a sink: give nats://…, kafka://…, http://… or a JSON sink object")
        }
        let problems = violations()
        if !problems.isEmpty { throw invalid("the sink '\(name)' " + problems.joined(separator: "; ")) }
    }
}
