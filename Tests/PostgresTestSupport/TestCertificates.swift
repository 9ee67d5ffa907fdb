// A test certificate authority and the certificates the TLS tests need, made
// once per test process with the `openssl` command-line tool.

import Foundation

/// Paths of PEM files in a temporary directory (keys 0600).
public struct TestCertificates: Sendable {
    public let directory: URL
    /// The CA that signs the server and client certificates.
    public let ca: String
    /// A CA that signed nothing here: verifying against it must fail.
    public let otherCA: String
    /// CN localhost, SAN DNS:localhost and IP:127.0.0.1.
    public let serverCertificate: String
    public let serverKey: String
    /// The same names, but valid only until yesterday.
    public let expiredServerCertificate: String
    /// CN `TestPostgresTLS.certificateRole`, for `cert` authentication.
    public let clientCertificate: String
    public let clientKey: String
    /// `clientKey` encrypted with AES-256 under the passphrase in `passphraseFile`.
    public let encryptedClientKey: String
    public let passphraseFile: String
    /// A CRL of the test CA that revokes nothing.
    public let emptyCRL: String
    /// A CRL of the test CA that revokes the server certificate.
    public let serverRevokedCRL: String

    public static func shared() throws -> TestCertificates { try made.get() }
    private static let made: Result<TestCertificates, any Error> = Result {
        try TestCertificates(role: TestPostgresTLS.certificateRole)
    }

    private init(role: String) throws {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("popsink-test-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        ca = path("ca.crt")
        otherCA = path("other-ca.crt")
        serverCertificate = path("server.crt")
        serverKey = path("server.key")
        expiredServerCertificate = path("server-expired.crt")
        clientCertificate = path("client.crt")
        clientKey = path("client.key")
        encryptedClientKey = path("client-encrypted.key")
        passphraseFile = path("client-key.pass")
        emptyCRL = path("empty.crl")
        serverRevokedCRL = path("server-revoked.crl")

        let sans = path("server.ext")
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: sans, atomically: true, encoding: .utf8)
        try "test passphrase \(UInt32.random(in: 0...UInt32.max))\n"
            .write(toFile: passphraseFile, atomically: true, encoding: .utf8)

        func openssl(_ arguments: [String]) throws { try TestPostgres.run("/usr/bin/openssl", arguments) }
        func selfSigned(_ certificate: String, key: String, name: String) throws {
            try openssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                "-subj", "/CN=\(name)", "-days", "2",
            ])
        }
        func request(_ key: String, name: String) throws -> String {
            let csr = key + ".csr"
            try openssl([
                "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=\(name)",
            ])
            return csr
        }
        func sign(_ csr: String, _ certificate: String, days: Int, extensions: String? = nil) throws {
            try openssl(
                [
                    "x509", "-req", "-in", csr, "-CA", path("ca.crt"), "-CAkey", path("ca.key"), "-set_serial",
                    String(UInt32.random(in: 1...UInt32.max)), "-out", certificate, "-days", String(days),
                ]
                    + (extensions.map { ["-extfile", $0] } ?? []))
        }

        try selfSigned(path("ca.crt"), key: path("ca.key"), name: "popsink test CA")
        try selfSigned(otherCA, key: path("other-ca.key"), name: "popsink other CA")
        let serverRequest = try request(serverKey, name: "localhost")
        try sign(serverRequest, serverCertificate, days: 2, extensions: sans)
        // Negative days: valid from now until a day ago, so expired at once.
        try sign(serverRequest, expiredServerCertificate, days: -1, extensions: sans)
        try sign(try request(clientKey, name: role), clientCertificate, days: 2)
        try openssl([
            "pkey", "-in", clientKey, "-aes256", "-passout", "file:\(passphraseFile)", "-out", encryptedClientKey,
        ])
        // `openssl ca` keeps its revocations in an index file named by a config.
        let config = path("ca.cnf")
        try """
        [ca]
        default_ca = test
        [test]
        database = \(path("index.txt"))
        crlnumber = \(path("crlnumber"))
        certificate = \(path("ca.crt"))
        private_key = \(path("ca.key"))
        default_md = sha256
        default_crl_days = 2

        """.write(toFile: config, atomically: true, encoding: .utf8)
        try "".write(toFile: path("index.txt"), atomically: true, encoding: .utf8)
        try "01\n".write(toFile: path("crlnumber"), atomically: true, encoding: .utf8)
        try openssl(["ca", "-config", config, "-gencrl", "-out", emptyCRL])
        try openssl(["ca", "-config", config, "-revoke", serverCertificate])
        try openssl(["ca", "-config", config, "-gencrl", "-out", serverRevokedCRL])
        for key in [serverKey, clientKey, encryptedClientKey, path("ca.key"), path("other-ca.key")] {
            chmod(key, 0o600)
        }
    }
}
