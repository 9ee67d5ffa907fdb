// Which fields of a stored record are secrets, and how they are sealed on
// disk and opened in memory. Each secret is sealed with its record's kind, id
// and field name as context (`source/src_1/password`), so a ciphertext copied
// into another record or field does not open.

import Secrets
import Sinks

extension StoredRecord {
    func secretContext(_ field: String) -> String { "\(Self.kind)/\(id)/\(field)" }

    /// The record with every secret sealed under the box's current key.
    func sealed(with box: SecretBox) throws -> Self {
        var copy = self
        try copy.visitSecrets { field, value in value = try box.seal(value, context: secretContext(field)) }
        return copy
    }

    /// The record with every secret opened, and whether any was stored in
    /// plaintext or under an earlier key (so the store seals it again).
    func opened(with box: SecretBox) throws -> (record: Self, needsResealing: Bool) {
        var copy = self
        var needsResealing = false
        try copy.visitSecrets { field, value in
            guard SecretBox.isSealed(value) else {
                needsResealing = true
                return
            }
            if box.needsResealing(value) { needsResealing = true }
            do throws(SecretError) {
                value = try box.open(value, context: secretContext(field))
            } catch {
                throw StateStoreSecretError(kind: Self.kind, id: id, field: field, reason: error)
            }
        }
        return (copy, needsResealing)
    }
}

extension SourceRecord {
    /// The password, the key passphrase, and the PEM certificates and key sent through the API.
    static var secretFields: [(name: String, path: WritableKeyPath<SourceRecord, String?>)] {
        [
            ("password", \.password), ("sslpassword", \.sslpassword), ("sslrootcert_pem", \.sslrootcertPEM),
            ("sslcert_pem", \.sslcertPEM), ("sslkey_pem", \.sslkeyPEM),
        ]
    }

    mutating func visitSecrets(_ body: (_ field: String, _ value: inout String) throws -> Void) rethrows {
        for (name, path) in Self.secretFields {
            guard var value = self[keyPath: path] else { continue }
            try body(name, &value)
            self[keyPath: path] = value
        }
    }
}

extension PipelineRecord {
    /// Each sink's secrets: a webhook's signing secret and Kafka's secret properties (`sinks.<name>.secret`),
    /// and the column masking's hash key (`columns.hash_key`).
    mutating func visitSecrets(_ body: (_ field: String, _ value: inout String) throws -> Void) rethrows {
        if var key = columns?.hashKey {
            try body("columns.hash_key", &key)
            columns?.hashKey = key
        }
        for index in sinks.indices {
            let name = sinks[index].name
            try sinks[index].visitSecrets { field, value in try body("sinks.\(name).\(field)", &value) }
        }
    }
}

/// A stored secret that does not open: the key file is not the one that sealed it, or the store was changed.
public struct StateStoreSecretError: Error, CustomStringConvertible {
    public let kind: String
    public let id: String
    public let field: String
    public let reason: SecretError

    public var description: String {
        "cannot open the \(field) of \(kind) \(id) in the state store: \(reason.description). "
            + "Start with the key file that sealed it (--secret-key-file or POPSINK_SECRET_KEY_FILE), "
            + "or delete the \(kind) and register it again."
    }
}
