// Throwaway Postgres clusters that speak only TLS, for the tests of sslmode,
// certificate verification and client-certificate authentication.
//
// `pg_hba.conf` has `hostssl` lines only, so a connection without TLS is
// refused; the role `popsink_cert` must present a client certificate signed by
// the test CA whose CN is its name (`cert`, clientcert=verify-full); everyone
// else is trusted once on TLS.

import Blocking
import Foundation

/// A TLS-only Postgres server of the test process.
public final class TestPostgresTLS: Sendable {
    public let server: TestPostgres
    public let certificates: TestCertificates
    /// The role that authenticates with the client certificate.
    public static let certificateRole = "popsink_cert"

    /// The server presenting a valid certificate for localhost and 127.0.0.1.
    public static func shared() throws -> TestPostgresTLS { try valid.get() }
    /// The server presenting the same names with an expired certificate.
    public static func expired() throws -> TestPostgresTLS { try outdated.get() }
    /// `shared()` from async code, started off the cooperative pool.
    public static func shared() async throws -> TestPostgresTLS { try await Blocking.run { try valid.get() } }
    /// `expired()` from async code, started off the cooperative pool.
    public static func expired() async throws -> TestPostgresTLS { try await Blocking.run { try outdated.get() } }

    private static let valid: Result<TestPostgresTLS, any Error> = Result { try TestPostgresTLS(expired: false) }
    private static let outdated: Result<TestPostgresTLS, any Error> = Result { try TestPostgresTLS(expired: true) }

    private init(expired: Bool) throws {
        let certificates = try TestCertificates.shared()
        self.certificates = certificates
        let role = Self.certificateRole
        let hba = """
            hostssl all \(role) 127.0.0.1/32 cert clientcert=verify-full
            hostssl replication \(role) 127.0.0.1/32 cert clientcert=verify-full
            hostssl all +\(TestPostgres.passwordGroup) 127.0.0.1/32 scram-sha-256
            hostssl all all 127.0.0.1/32 trust
            hostssl replication all 127.0.0.1/32 trust
            local all all trust
            local replication all trust

            """
        server = try TestPostgres(
            hba: hba,
            extraSettings: ["ssl=on", "ssl_cert_file=server.crt", "ssl_key_file=server.key", "ssl_ca_file=ca.crt"],
            prepare: { data in
                let files = [
                    (expired ? certificates.expiredServerCertificate : certificates.serverCertificate, "server.crt"),
                    (certificates.serverKey, "server.key"), (certificates.ca, "ca.crt"),
                ]
                for (source, name) in files {
                    let target = data.appendingPathComponent(name)
                    try FileManager.default.copyItem(atPath: source, toPath: target.path)
                    chmod(target.path, 0o600)
                }
            })
        try server.execute("CREATE ROLE \(role) LOGIN REPLICATION")
    }

    public var host: String { server.host }
    public var port: Int { server.port }

    /// A keyword string to `database` as the superuser, with extra keywords.
    public func connectionString(database: String = "postgres", user: String? = nil, _ extra: String = "") -> String {
        server.connectionString(database: database, user: user) + " " + extra
    }
}
