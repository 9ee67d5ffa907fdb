// What the API may show of a sink: secrets are write-only, like source passwords.

extension SinkConfig {
    /// A copy without secrets: the webhook's secret and every Kafka property
    /// whose name says password, secret or key (`sasl.password`, `ssl.key.password`, …) become `"***"`.
    public var redacted: SinkConfig {
        var copy = self
        switch target {
        case .webhook(var settings):
            settings.secret = "***"
            copy.target = .webhook(settings)
        case .kafka(var settings):
            for name in settings.properties.keys where Self.isSecretProperty(name) { settings.properties[name] = "***" }
            copy.target = .kafka(settings)
        case .jetstream:
            break
        }
        return copy
    }

    static func isSecretProperty(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return ["password", "secret", "key", "token"].contains { lowered.contains($0) }
            && !lowered.hasSuffix(".location")
    }
}
