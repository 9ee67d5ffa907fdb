// Whether a connection is encrypted, with what, and whether the server's
// identity was checked: what status, `check` and /metrics report per pipeline.

import CLibPQ

/// The transport security of an open connection (libpq `PQsslInUse`, `PQsslAttribute`).
public struct ConnectionSecurity: Sendable, Equatable, Codable {
    /// The connection runs over TLS.
    public var encrypted: Bool
    /// The TLS version, e.g. `TLSv1.3`; nil when not encrypted.
    public var `protocol`: String?
    /// The cipher suite, e.g. `TLS_AES_256_GCM_SHA384`; nil when not encrypted.
    public var cipher: String?
    /// The `sslmode` in effect (from the settings or libpq's defaults).
    public var sslmode: String
    /// The server's certificate was checked against a trusted root
    /// (`verify-ca`) and its name against the host (`verify-full`).
    public var verified: Bool

    public init(encrypted: Bool, protocol: String?, cipher: String?, sslmode: String, verified: Bool) {
        self.encrypted = encrypted
        self.protocol = `protocol`
        self.cipher = cipher
        self.sslmode = sslmode
        self.verified = verified
    }

    /// A warning for a weak mode, nil for `verify-full`.
    public static func warning(sslmode: String) -> String? {
        switch sslmode {
        case "verify-full": nil
        case "verify-ca":
            "sslmode verify-ca checks the server's certificate but not its host name: any server with a certificate from the same CA can pose as this one. Use verify-full."
        case "require":
            "sslmode require encrypts but does not check who the server is: a man in the middle can read the data and the password. Use verify-full with sslrootcert."
        default:
            "sslmode \(sslmode) may connect without encryption: the data and the password can cross the network in clear. Use verify-full with sslrootcert."
        }
    }
}

extension PostgresConnection {
    /// The transport security of this connection.
    public var security: ConnectionSecurity {
        let encrypted = PQsslInUse(handle) == 1
        func attribute(_ name: String) -> String? {
            guard encrypted, let value = PQsslAttribute(handle, name) else { return nil }
            return String(cString: value)
        }
        let sslmode = Self.options(of: handle)["sslmode"] ?? "prefer"
        return ConnectionSecurity(
            encrypted: encrypted, protocol: attribute("protocol"), cipher: attribute("cipher"), sslmode: sslmode,
            verified: encrypted && (sslmode == "verify-ca" || sslmode == "verify-full"))
    }

    /// The values libpq uses on a connection, defaults included (`PQconninfo`);
    /// also readable on a connection that failed, before `PQfinish`.
    static func options(of handle: OpaquePointer) -> [String: String] {
        guard let options = PQconninfo(handle) else { return [:] }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return values
    }
}
