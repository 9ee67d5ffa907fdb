// Connects to a sink's target with the sink's own settings and checks what
// delivery will need, without delivering: nothing is written to the target
// (the JetStream probe is refused by its expected last sequence; the webhook
// probe is a HEAD). Blocking: call it off the cooperative pool.

/// Runs the checks of one sink.
public enum SinkChecker {
    /// - Parameter pipelineID: names the subjects and topics the sink would use.
    public static func run(_ config: SinkConfig, pipelineID: String) -> SinkCheckReport {
        switch config.target {
        case .jetstream(let settings):
            SinkCheckReport(
                sink: config.name, type: config.type, target: settings.servers.map(redactedURL).joined(separator: ","),
                checks: JetStreamCheck(settings: settings, pipelineID: pipelineID).run())
        case .kafka(let settings):
            SinkCheckReport(
                sink: config.name, type: config.type, target: settings.bootstrapServers,
                checks: KafkaCheck(settings: settings, pipelineID: pipelineID).run())
        case .webhook(let settings):
            SinkCheckReport(
                sink: config.name, type: config.type, target: redactedURL(settings.url),
                checks: WebhookCheck(settings: settings).run())
        }
    }

    /// A URL without the password of its user info (`nats://user:***@host`).
    static func redactedURL(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else {
            return url
        }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return "\(url[..<scheme.upperBound])***\(url[at...])" }
        return "\(url[..<colon]):***\(url[at...])"
    }

    /// The table the probes name where a template needs one.
    static let probeSchema = "popsink_check"
    static let probeTable = "probe"
}
