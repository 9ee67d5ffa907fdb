// The verdict on how the connection travels: encrypted or not, and whether the
// server proved who it is. Anything below verify-full is a warning, not a
// failure: the user may have chosen it, but should see what it leaves open.

import PostgresReplication

extension CheckEvaluation {
    static func transportSecurity(_ security: ConnectionSecurity?) -> CheckResult {
        guard let security else { return skipped(.tls, because: "the connection's security is unknown") }
        let fix = "Set sslmode=verify-full and sslrootcert to the CA certificate that signed the server's certificate."
        guard security.encrypted else {
            return CheckResult(
                id: .tls, status: .warn,
                detail: "The connection is not encrypted (sslmode \(security.sslmode)).", remediation: fix)
        }
        let how = "Encrypted with \(security.protocol ?? "TLS") (\(security.cipher ?? "unknown cipher"))"
        if let warning = ConnectionSecurity.warning(sslmode: security.sslmode) {
            return CheckResult(id: .tls, status: .warn, detail: "\(how). \(warning)", remediation: fix)
        }
        return CheckResult(
            id: .tls, status: .pass, detail: "\(how); the server's certificate and host name were verified.")
    }
}
