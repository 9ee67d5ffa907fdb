// A Postgres source as the control plane stores it: connection fields, never
// a pasted connection string. The password is write-only: it is kept here for
// connecting, and every outward form (`redacted`, API responses) leaves it out.

import CDC
import PostgresReplication

/// A registered Postgres database to capture from.
public struct SourceRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String?
    public var host: String
    public var port: Int
    public var database: String
    public var user: String
    public var password: String?
    public var sslmode: String
    public var sslrootcert: String?
    public var sslcert: String?
    public var sslkey: String?
    /// Certificates and key given as PEM through the API (sealed at rest),
    /// written to 0600 files in the data directory for libpq (SourceCredentialFiles).
    public var sslrootcertPEM: String?
    public var sslcertPEM: String?
    public var sslkeyPEM: String?
    /// The passphrase of the client key, write-only like the password.
    public var sslpassword: String?
    /// Extra libpq keywords, only from `allowedOptions`.
    public var options: [String: String]
    /// The connections popsink-pg may open to this database, shared by every
    /// pipeline of it (`SourceConnectionBudget`); nil is the default budget.
    public var maxConnections: Int?
    public var createdAt: String
    public var updatedAt: String

    /// libpq keywords a source may set beyond its named fields.
    public static let allowedOptions: Set<String> = [
        "connect_timeout", "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "target_session_attrs", "sslcompression", "options",
        "sslcrl", "sslsni", "channel_binding", "ssl_min_protocol_version", "ssl_max_protocol_version",
    ]
    /// Encrypted, with the server's certificate and name verified: anything
    /// weaker (`require` or lower) must be asked for, and check and status warn about it.
    public static let defaultSSLMode = "verify-full"
    /// A running pipeline's own connections plus one load worker, up to what a server could have.
    public static let maxConnectionsRange = (SourceConnectionBudget.sessionConnections + 1)...262_143

    /// The process-wide budget of this source's database (`host:port/database`).
    public var connectionBudget: SourceConnectionBudget {
        SourceConnectionBudgets.shared.budget(
            source: "\(host):\(port)/\(database)", limit: maxConnections ?? SourceConnectionBudget.defaultLimit)
    }
    public static let sslModes: Set<String> = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    public init(
        id: String, name: String? = nil, host: String, port: Int = 5432, database: String, user: String,
        password: String? = nil, sslmode: String = defaultSSLMode, sslrootcert: String? = nil, sslcert: String? = nil,
        sslkey: String? = nil, sslrootcertPEM: String? = nil, sslcertPEM: String? = nil, sslkeyPEM: String? = nil,
        sslpassword: String? = nil, options: [String: String] = [:], createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.name = name
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.sslmode = sslmode
        self.sslrootcert = sslrootcert
        self.sslcert = sslcert
        self.sslkey = sslkey
        self.sslrootcertPEM = sslrootcertPEM
        self.sslcertPEM = sslcertPEM
        self.sslkeyPEM = sslkeyPEM
        self.sslpassword = sslpassword
        self.options = options
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The fields that are wrong, as (field, message), empty when valid.
    public var validationErrors: [(field: String, message: String)] {
        var errors: [(String, String)] = []
        if !ControlPlaneIDs.isValid(id) { errors.append(("id", "must be 1 to 64 of A-Z a-z 0-9 _ -")) }
        if host.isEmpty { errors.append(("host", "must not be empty")) }
        if !(1...65535).contains(port) { errors.append(("port", "must be between 1 and 65535")) }
        if database.isEmpty { errors.append(("database", "must not be empty")) }
        if user.isEmpty { errors.append(("user", "must not be empty")) }
        if !Self.sslModes.contains(sslmode) {
            errors.append(("sslmode", "must be one of \(Self.sslModes.sorted().joined(separator: ", "))"))
        }
        for (field, path) in [("sslrootcert", sslrootcert), ("sslcert", sslcert), ("sslkey", sslkey)] {
            if let path, !(1...4096).contains(path.utf8.count) {
                errors.append((field, "must be a path of 1 to 4096 bytes"))
            }
        }
        for (field, pem, path) in [
            ("sslrootcert_pem", sslrootcertPEM, sslrootcert), ("sslcert_pem", sslcertPEM, sslcert),
            ("sslkey_pem", sslkeyPEM, sslkey),
        ] {
            guard let pem else { continue }
            if path != nil { errors.append((field, "cannot be given with \(field.dropLast(4)): one or the other")) }
            if !pem.contains("-----BEGIN ") || pem.utf8.count > 65_536 {
                errors.append((field, "must be PEM text (-----BEGIN …) of at most 64 KiB"))
            }
        }
        for key in options.keys.sorted() where !Self.allowedOptions.contains(key) {
            errors.append(("options.\(key)", "is not an allowed libpq option"))
        }
        if let maxConnections, !Self.maxConnectionsRange.contains(maxConnections) {
            errors.append(
                (
                    "max_connections",
                    "must be between \(Self.maxConnectionsRange.lowerBound) and \(Self.maxConnectionsRange.upperBound): "
                        + "a pipeline needs \(SourceConnectionBudget.sessionConnections) connections and one load worker"
                ))
        }
        return errors
    }

    /// libpq parameters, keyword by keyword: no value is ever parsed as a
    /// connection string, so a field cannot smuggle in another keyword. PEM
    /// material is not here: connections of the service are made with
    /// `SourceCredentialFiles.settings(for:)`, which adds it as files.
    public var connectionSettings: ConnectionSettings {
        var parameters: [(key: String, value: String)] = [
            ("host", host), ("port", String(port)), ("dbname", database), ("user", user), ("sslmode", sslmode),
        ]
        if let password { parameters.append(("password", password)) }
        if let sslrootcert { parameters.append(("sslrootcert", sslrootcert)) }
        if let sslcert { parameters.append(("sslcert", sslcert)) }
        if let sslkey { parameters.append(("sslkey", sslkey)) }
        if let sslpassword { parameters.append(("sslpassword", sslpassword)) }
        for key in options.keys.sorted() where Self.allowedOptions.contains(key) {
            parameters.append((key, options[key]!))
        }
        // Nothing from the service's environment: see ConnectionSettings.Defaults.none.
        return ConnectionSettings(parameters: parameters, defaults: .none)
    }
}

/// Identifiers of sources and pipelines: safe as file and directory names,
/// by the same rule as the data directory's pipeline folders.
public enum ControlPlaneIDs {
    public static func isValid(_ id: String) -> Bool { DataDirectory.isValidPipelineID(id) }
}
