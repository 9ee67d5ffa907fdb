// Settings that borrow nothing from the process: for sources registered
// through the API.
//
// libpq fills every keyword a connection leaves out from the environment
// (`PGPASSWORD`, `PGPASSFILE`, `PGSSLKEY`, `PGSERVICE`, … : the `envvar` of each
// entry of `PQconndefaults`) or from the home directory (`~/.pgpass`,
// `~/.postgresql/postgresql.key`, …). A source of an API user must not receive
// the service's password or client key, so each such keyword is given here:
// its compiled default, an empty value, or a path that cannot exist.
//
// `PQconnectdbParams` drops empty values and then fills them from the
// environment again, so an explicit empty value survives only in a conninfo
// string; `conninfo` builds one with libpq's quoting and checks it by parsing it
// back with `PQconninfoParse`.

import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

extension ConnectionSettings {
    /// A path no file can have (a directory entry under a character device),
    /// which libpq treats as "no such file": no password file, no client
    /// certificate or key, no CRL, no root certificate.
    public static let absentFile = "/dev/null/popsink-none"

    /// Trust stores of the common distributions, for `verify-ca`/`verify-full`
    /// without an `sslrootcert`: what libpq 16 calls `sslrootcert=system`.
    static let systemTrustStores = [
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
    ]

    /// These settings with every keyword libpq would take from the
    /// environment or the home directory made explicit.
    public func isolated() -> ConnectionSettings {
        var sealed = self
        for option in Self.libpqOptions() where self[option.keyword] == nil {
            guard let value = sealedValue(option) else { continue }
            sealed[option.keyword] = value
        }
        sealed.defaults = .none
        return sealed
    }

    private func sealedValue(_ option: (keyword: String, envvar: String?, compiled: String?)) -> String? {
        switch option.keyword {
        case "passfile", "sslcert", "sslkey", "sslcrl", "sslcrldir":
            return Self.absentFile
        case "sslrootcert":
            // libpq verifies against a root certificate whenever the file exists,
            // so only the verifying modes get the system's trust store.
            let verifying = ["verify-ca", "verify-full"].contains(self["sslmode"] ?? "")
            return verifying
                ? Self.systemTrustStores.first { access($0, R_OK) == 0 } ?? Self.absentFile
                : Self.absentFile
        case "password":
            return ""
        case "gssencmode":
            // Kerberos credentials in the process's ticket cache are ambient too.
            return "disable"
        case "service", "servicefile":
            // An empty service name is an error in libpq; with every other
            // keyword explicit, a service from PGSERVICE can fill nothing.
            return nil
        default:
            guard option.envvar != nil else { return nil }
            return option.compiled ?? ""
        }
    }

    /// libpq's keywords with the environment variable and compiled default of each.
    static func libpqOptions() -> [(keyword: String, envvar: String?, compiled: String?)] {
        guard let defaults = PQconndefaults() else { return [] }
        defer { PQconninfoFree(defaults) }
        var options: [(keyword: String, envvar: String?, compiled: String?)] = []
        var option = defaults
        while let keyword = option.pointee.keyword {
            options.append(
                (
                    String(cString: keyword), option.pointee.envvar.map { String(cString: $0) },
                    option.pointee.compiled.map { String(cString: $0) }
                ))
            option += 1
        }
        return options
    }

    /// The parameters as one libpq conninfo string (`key='value' …`), quoted
    /// so that no value can end its quotes, and proven by parsing it back.
    public func conninfo() throws(PostgresError) -> String {
        let text = parameters.map { pair in
            var quoted = "'"
            for character in pair.value {
                if character == "\\" || character == "'" { quoted.append("\\") }
                quoted.append(character)
            }
            return pair.key + "=" + quoted + "'"
        }.joined(separator: " ")
        let parsed = try ConnectionSettings(parsing: text, allowPassword: true)
        // Later duplicates win in libpq as in `subscript`, so compare the effective values.
        let keys = Set(parameters.map(\.key))
        guard keys.allSatisfy({ parsed[$0] == self[$0] }), Set(parsed.parameters.map(\.key)) == keys else {
            throw PostgresError(
                kind: .connection, operation: "building the connection string",
                message: "the source's fields did not survive quoting unchanged",
                hint: "Report this as a bug, with the source's fields (not its password).")
        }
        return text
    }
}
