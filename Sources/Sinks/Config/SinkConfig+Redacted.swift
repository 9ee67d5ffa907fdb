// What the API may show of a sink: secrets are write-only, like source
// passwords. A webhook's secret shows as `has_secret`; Kafka properties that
// hold secrets are left out and named in `secret_properties`.

import Foundation

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

    /// The sink as the API returns it: every setting with its effective
    /// value, and no secret.
    public var publicFields: [String: Any] {
        guard let data = try? JSONEncoder().encode(self),
            var fields = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return ["name": name, "type": type] }
        switch target {
        case .webhook(let settings):
            fields["secret"] = nil
            fields["has_secret"] = !settings.secret.isEmpty
        case .kafka(let settings):
            let secret = settings.properties.keys.filter(Self.isSecretProperty).sorted()
            fields["properties"] = settings.properties.filter { !Self.isSecretProperty($0.key) }
            fields["secret_properties"] = secret
        case .jetstream:
            break
        }
        return fields
    }

    /// Takes the secret Kafka properties of `stored` (the same sink as saved
    /// before) that these settings leave out: the API never shows them, so a
    /// client sending back what it read must not erase them.
    public mutating func keepSecretProperties(of stored: SinkConfig) {
        guard case .kafka(var settings) = target, case .kafka(let old) = stored.target else { return }
        for (name, value) in old.properties where Self.isSecretProperty(name) && settings.properties[name] == nil {
            settings.properties[name] = value
        }
        target = .kafka(settings)
    }

    /// Drops Kafka properties by name (a PUT that gives them as `null`).
    public mutating func removeProperties(_ names: [String]) {
        guard !names.isEmpty, case .kafka(var settings) = target else { return }
        for name in names { settings.properties[name] = nil }
        target = .kafka(settings)
    }

    static func isSecretProperty(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return ["password", "secret", "key", "token"].contains { lowered.contains($0) }
            && !lowered.hasSuffix(".location")
    }
}

extension SinkConfig {
    /// Calls `body` with each secret the sink holds, by field (`secret`,
    /// `properties.sasl.password`); what `body` leaves in it is kept. The
    /// state store seals them at rest through this.
    public mutating func visitSecrets(_ body: (_ field: String, _ value: inout String) throws -> Void) rethrows {
        switch target {
        case .webhook(var settings):
            try body("secret", &settings.secret)
            target = .webhook(settings)
        case .kafka(var settings):
            for name in settings.properties.keys.sorted() where Self.isSecretProperty(name) {
                var value = settings.properties[name]!
                try body("properties.\(name)", &value)
                settings.properties[name] = value
            }
            target = .kafka(settings)
        case .jetstream:
            break
        }
    }
}
