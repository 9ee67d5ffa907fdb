// TLS to Postgres against real TLS-only servers (TestPostgresTLS): which
// settings connect, and that each refusal names its cause.

import ControlPlane
import Foundation
import PostgresReplication
import PostgresTestSupport
import Testing

@Suite struct TLSConnectionTests {
    /// A source record for the TLS server (as the API would store it).
    static func record(
        _ tls: TestPostgresTLS, host: String = "localhost", user: String = "postgres", sslmode: String = "verify-full",
        rootcert: String? = nil, options: [String: String] = [:]
    ) throws -> SourceRecord {
        let ca = try TestCertificates.shared().ca
        return SourceRecord(
            id: "tls", host: host, port: tls.port, database: "postgres", user: user, sslmode: sslmode,
            sslrootcert: rootcert ?? ca, options: options, createdAt: "", updatedAt: "")
    }

    static func refusal(_ settings: ConnectionSettings, mode: PostgresConnection.Mode = .sql) -> String {
        do {
            _ = try PostgresConnection(settings: settings, mode: mode)
            return "connected"
        } catch {
            return "\(error)"
        }
    }

    @Test func verifyFullWithTheRightCAConnectsEncryptedAndVerified() throws {
        let tls = try TestPostgresTLS.shared()
        for host in ["localhost", "127.0.0.1"] {
            for mode in [PostgresConnection.Mode.sql, .logicalReplication] {
                let connection = try PostgresConnection(
                    settings: try Self.record(tls, host: host).connectionSettings, mode: mode)
                let security = connection.security
                #expect(security.encrypted && security.verified && security.sslmode == "verify-full")
                #expect(security.protocol?.hasPrefix("TLSv1.") == true, "\(security)")
                #expect(security.cipher?.isEmpty == false)
            }
        }
        // `require` encrypts without verifying.
        let require = try PostgresConnection(
            settings: try Self.record(tls, sslmode: "require").connectionSettings, mode: .sql)
        #expect(require.security.encrypted && !require.security.verified)
    }

    @Test func aWrongCAIsRefusedAndNamed() throws {
        let tls = try TestPostgresTLS.shared()
        let message = Self.refusal(
            try Self.record(tls, rootcert: try TestCertificates.shared().otherCA).connectionSettings)
        #expect(message.contains("certificate verify failed"), "\(message)")
        // The server sends its CA along, which the other CA does not vouch for.
        #expect(
            message.contains("the server's certificate: self-signed certificate in certificate chain"), "\(message)")
    }

    @Test func aWrongHostNameIsRefusedAndNamed() throws {
        let tls = try TestPostgresTLS.shared()
        // The right server at 127.0.0.1, reached under a name its certificate does not carry.
        let record = try Self.record(tls, host: "db.wrong.example", options: [:])
        var settings = record.connectionSettings
        settings["hostaddr"] = "127.0.0.1"
        let message = Self.refusal(settings)
        #expect(message.contains("does not match host name \"db.wrong.example\""), "\(message)")
        // verify-ca does not check the name.
        var caOnly = try Self.record(tls, host: "db.wrong.example", sslmode: "verify-ca").connectionSettings
        caOnly["hostaddr"] = "127.0.0.1"
        #expect(try PostgresConnection(settings: caOnly, mode: .sql).security.verified)
    }

    @Test func anExpiredCertificateIsRefusedAndNamed() throws {
        let tls = try TestPostgresTLS.expired()
        let message = Self.refusal(try Self.record(tls).connectionSettings)
        #expect(message.contains("certificate has expired"), "\(message)")
    }

    @Test func clientCertificateAuthentication() throws {
        let tls = try TestPostgresTLS.shared()
        let certificates = try TestCertificates.shared()
        var record = try Self.record(tls, user: TestPostgresTLS.certificateRole)
        let without = Self.refusal(record.connectionSettings)
        #expect(without.contains("certificate"), "\(without)")

        record.sslcert = certificates.clientCertificate
        record.sslkey = certificates.clientKey
        for mode in [PostgresConnection.Mode.sql, .logicalReplication] {
            let connection = try PostgresConnection(settings: record.connectionSettings, mode: mode)
            #expect(connection.security.verified)
        }
        // The passphrase of an encrypted key comes from a file.
        record.sslkey = certificates.encryptedClientKey
        var settings = record.connectionSettings
        let noPassphrase = Self.refusal(settings)
        #expect(noPassphrase.contains("could not load private key"), "\(noPassphrase)")
        settings.sslPasswordFile = certificates.passphraseFile
        #expect(
            try PostgresConnection(settings: settings, mode: .sql).query("SELECT current_user").rows == [
                [TestPostgresTLS.certificateRole]
            ])
    }

    /// A pipeline over verify-full streams a change, and status, check and
    /// /metrics show the connection encrypted and verified.
    @Test(.timeLimit(.minutes(5)))
    func aPipelineStreamsOverVerifiedTLS() async throws {
        let tls = try await TestPostgresTLS.shared()
        let database = try tls.server.createDatabase(prefix: "tls")
        try tls.server.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, v text);
            ALTER TABLE t REPLICA IDENTITY FULL;
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)
        let service = try APIFlowTests.Service()
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "tls", "host": "localhost", "port": tls.port, "database": database, "user": "postgres",
                "sslmode": "verify-full",
                "sslrootcert_pem": try String(contentsOfFile: TestCertificates.shared().ca, encoding: .utf8),
            ])
        let sourceID = try #require((created.body as? [String: Any])?["id"] as? String, "\(created.raw)")
        let check = try await service.call("POST", "/v1/sources/\(sourceID)/check")
        let checks = (check.body as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        let tlsCheck = checks.first { $0["id"] as? String == "tls" }
        #expect(tlsCheck?["status"] as? String == "pass", "\(check.raw)")

        let pipelineID = "p\(database)"
        let put = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: [
                "source_id": sourceID, "desired_state": "running",
            ])
        #expect(put.status == 201, "\(put.raw)")
        var status: [String: Any] = [:]
        _ = try await eventually {
            status = (try await service.call("GET", "/v1/pipelines/\(pipelineID)/status").body as? [String: Any]) ?? [:]
            return status["state"] as? String == "streaming"
        }
        #expect(status["state"] as? String == "streaming", "\(status)")
        let security = status["tls"] as? [String: Any] ?? [:]
        #expect(security["encrypted"] as? Bool == true && security["verified"] as? Bool == true, "\(status)")
        #expect((security["protocol"] as? String)?.hasPrefix("TLSv1.") == true)
        #expect(security["warning"] is NSNull, "\(security)")

        try tls.server.execute("INSERT INTO t VALUES (1, 'over tls')", database: database)
        var events: [[String: Any]] = []
        for _ in 0..<100 where events.isEmpty {
            let page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&wait=5")
            events = (page.body as? [String: Any])?["events"] as? [[String: Any]] ?? []
            // The table's `s` event comes first; the row follows it.
            events = events.filter { ($0["event"] as? [String: Any])?["op"] as? String != "s" }
        }
        #expect(((events.first?["event"] as? [String: Any])?["after"] as? [String: Any])?["v"] as? String == "over tls")
        let metrics = try await service.call("GET", "/metrics")
        #expect(metrics.raw.contains("popsink_pipeline_tls_encrypted{pipeline=\"\(pipelineID)\"} 1"), "\(metrics.raw)")
        _ = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        await service.stop()
    }

    @Test func aRevokedCertificateIsRefusedAndNamed() throws {
        let tls = try TestPostgresTLS.shared()
        let certificates = try TestCertificates.shared()
        let current = try Self.record(tls, options: ["sslcrl": certificates.emptyCRL, "sslsni": "0"])
        #expect(try PostgresConnection(settings: current.connectionSettings, mode: .sql).security.verified)
        let revoked = try Self.record(tls, options: ["sslcrl": certificates.serverRevokedCRL])
        let message = Self.refusal(revoked.connectionSettings)
        #expect(message.contains("the server's certificate: certificate revoked"), "\(message)")
    }

    /// channel_binding=require: SCRAM bound to the TLS channel, refused without TLS.
    @Test func channelBindingNeedsTLSAndSCRAM() throws {
        let tls = try TestPostgresTLS.shared()
        let role = "cb_\(UInt32.random(in: 0...UInt32.max))"
        let secret = UUID().uuidString
        try tls.server.execute("CREATE ROLE \(role) LOGIN PASSWORD '\(secret)' IN ROLE \(TestPostgres.passwordGroup)")
        var record = try Self.record(tls, user: role, options: ["channel_binding": "require"])
        record.password = secret
        #expect(try PostgresConnection(settings: record.connectionSettings, mode: .sql).security.encrypted)
        let plain = try TestPostgres.shared()
        try plain.execute("CREATE ROLE \(role) LOGIN PASSWORD '\(secret)' IN ROLE \(TestPostgres.passwordGroup)")
        let clear = SourceRecord(
            id: "cb", host: plain.host, port: plain.port, database: "postgres", user: role, password: secret,
            sslmode: "disable", options: ["channel_binding": "require"], createdAt: "", updatedAt: "")
        let message = Self.refusal(clear.connectionSettings)
        #expect(message.contains("channel binding"), "\(message)")
    }

    @Test func sslmodeDisableAgainstHostsslOnlyIsRefusedClearly() throws {
        let tls = try TestPostgresTLS.shared()
        let message = Self.refusal(try Self.record(tls, sslmode: "disable").connectionSettings)
        #expect(message.contains("no encryption"), "\(message)")
    }
}
