// Certificates and keys for Postgres TLS through the API: given as PEM they
// are sealed in the state store, written owner-only to the data directory for
// libpq only while a connection opens, and authenticate with a client certificate whose key has a
// passphrase; given as paths they must lie under the operator's certificate
// directory, resolved through links and `..`.

import CDC
import Foundation
import HTTPServer
import PostgresTestSupport
import Testing

@testable import ControlPlane

@Suite struct PEMCredentialsTests {
    /// A router over a fresh data directory, in process.
    struct API {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pem-\(UUID().uuidString)")
        let router: APIRouter

        init(certificateDirectory: String? = nil) throws {
            let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.sqlite").path)
            let dataDirectory = DataDirectory(path: directory.path)
            router = APIRouter(
                store: store, registry: PipelineRegistry(store: store, dataDirectory: dataDirectory),
                dataDirectory: dataDirectory, token: nil, certificateDirectory: certificateDirectory)
        }

        func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> (
            status: Int, json: [String: Any], text: String
        ) {
            let bytes = try body.map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) } ?? []
            let response = await router.handle(
                HTTPRequest(
                    method: method, target: path, headers: ["Host": "localhost", "Content-Type": "application/json"],
                    body: bytes, remoteAddress: "127.0.0.1:1"))
            guard case .bytes(let data) = response.body else { return (response.status, [:], "") }
            let json = (try? JSONSerialization.jsonObject(with: Data(data))) as? [String: Any] ?? [:]
            return (response.status, json, String(decoding: data, as: UTF8.self))
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func pemMaterialAuthenticatesWithAClientCertificateAndIsSealedAtRest() async throws {
        let tls = try await TestPostgresTLS.shared()
        let certificates = try TestCertificates.shared()
        let read = { (path: String) in try String(contentsOfFile: path, encoding: .utf8) }
        let key = try read(certificates.encryptedClientKey)
        let passphrase = try read(certificates.passphraseFile).trimmingCharacters(in: .newlines)
        let api = try API()
        defer { try? FileManager.default.removeItem(at: api.directory) }

        let created = try await api.call(
            "POST", "/v1/sources",
            [
                "name": "pem", "host": "localhost", "port": tls.port, "database": "postgres",
                "user": TestPostgresTLS.certificateRole, "sslmode": "verify-full",
                "sslrootcert_pem": try read(certificates.ca), "sslcert_pem": try read(certificates.clientCertificate),
                "sslkey_pem": key, "sslpassword": passphrase,
            ])
        #expect(created.status == 201, "\(created.text)")
        #expect(created.json["has_sslkey_pem"] as? Bool == true && created.json["has_sslpassword"] as? Bool == true)
        #expect(!created.text.contains("BEGIN") && !created.text.contains(passphrase))
        let id = try #require(created.json["id"] as? String)

        let check = try await api.call("POST", "/v1/sources/\(id)/check")
        let checks = check.json["checks"] as? [[String: Any]] ?? []
        for name in ["connect", "tls"] {
            #expect(checks.first { $0["id"] as? String == name }?["status"] as? String == "pass", "\(check.text)")
        }

        // The key's body and the passphrase are in no byte of the state store.
        let state = try Data(contentsOf: api.directory.appendingPathComponent("state.sqlite"))
        let keyLine = try #require(key.split(separator: "\n").dropFirst().first.map(String.init))
        #expect(state.range(of: Data(keyLine.utf8)) == nil)
        #expect(state.range(of: Data(passphrase.utf8)) == nil)
        // libpq's copies lived only while the check's connections opened; their folder is the owner's only.
        let folder = api.directory.appendingPathComponent("credentials/\(id)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [])
        let mode = try FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        #expect(try await api.call("DELETE", "/v1/sources/\(id)").status == 204)
        #expect(!FileManager.default.fileExists(atPath: folder.path))

        // Without the passphrase the same key does not load: the passphrase above was used.
        let without = try await api.call(
            "POST", "/v1/sources",
            [
                "name": "nopass", "host": "localhost", "port": tls.port, "database": "postgres",
                "user": TestPostgresTLS.certificateRole, "sslrootcert_pem": try read(certificates.ca),
                "sslcert_pem": try read(certificates.clientCertificate), "sslkey_pem": key,
            ])
        let refused = try await api.call("POST", "/v1/sources/\(without.json["id"] as? String ?? "")/check")
        let connect = (refused.json["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "connect" }
        #expect(connect?["status"] as? String == "fail", "\(refused.text)")
    }

    @Test func pathsAreRefusedWithoutACertificateDirectoryAndConfinedToIt() async throws {
        let base = ["name": "p", "host": "h", "database": "d", "user": "u"]
        let unconfigured = try API()
        defer { try? FileManager.default.removeItem(at: unconfigured.directory) }
        let refused = try await unconfigured.call(
            "POST", "/v1/sources", base.merging(["sslrootcert": "/etc/passwd"]) { $1 })
        #expect(refused.status == 422 && refused.text.contains("--certificate-dir"), "\(refused.text)")
        #expect(refused.text.contains("sslrootcert_pem"))

        let certificates = FileManager.default.temporaryDirectory.appendingPathComponent("certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: certificates, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: certificates) }
        let inside = certificates.appendingPathComponent("root.crt").path
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: inside))
        let link = certificates.appendingPathComponent("link.crt").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/etc/passwd")
        let api = try API(certificateDirectory: certificates.path)
        defer { try? FileManager.default.removeItem(at: api.directory) }

        #expect(try await api.call("POST", "/v1/sources", base.merging(["sslrootcert": inside]) { $1 }).status == 201)
        for (field, path) in [
            ("sslrootcert", "/etc/passwd"), ("sslcert", link),
            ("sslkey", "\(certificates.path)/../\(certificates.lastPathComponent)-x/k"),
            ("sslkey", "\(certificates.path)/../../etc/passwd"), ("sslrootcert", "root.crt"),
        ] {
            let answer = try await api.call("POST", "/v1/sources", base.merging([field: path]) { $1 })
            #expect(answer.status == 422, "\(field)=\(path): \(answer.text)")
        }
        let crl = try await api.call(
            "POST", "/v1/sources",
            base.merging(["sslrootcert": inside]) { $1 }.merging([:]) { $1 }
                as [String: Any] + ["options": ["sslcrl": "/etc/passwd"]])
        #expect(crl.status == 422 && crl.text.contains("options.sslcrl"), "\(crl.text)")
        // PEM and a path for the same thing is a contradiction.
        let both = try await api.call(
            "POST", "/v1/sources",
            base.merging(["sslrootcert": inside, "sslrootcert_pem": "-----BEGIN CERTIFICATE-----"]) { $1 })
        #expect(both.status == 422, "\(both.text)")
    }
}

private func + (left: [String: Any], right: [String: Any]) -> [String: Any] {
    left.merging(right) { $1 }
}
