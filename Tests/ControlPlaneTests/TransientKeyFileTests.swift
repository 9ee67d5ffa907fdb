// A source's PEM key lies on disk only while libpq opens a connection: once a
// pipeline streams over client-certificate TLS, no file is left under
// `<data-dir>/credentials/`, yet a restart and a reconnect after the server
// dropped the connection (new connections, so new copies) stream again; copies
// a killed process left behind are removed when the service resumes.

import CDC
import Foundation
import PostgresTestSupport
import Testing

@testable import ControlPlane

@Suite struct TransientKeyFileTests {
    static func files(under folder: URL) -> [String] {
        let walker = FileManager.default.enumerator(atPath: folder.path)
        return (walker?.allObjects as? [String] ?? []).filter {
            var directory: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path, isDirectory: &directory)
            return !directory.boolValue
        }
    }

    static func streamedRow(_ service: APIFlowTests.Service, _ pipeline: String, _ value: String) async throws -> Bool {
        try await eventually {
            let page = try await service.call("GET", "/v1/pipelines/\(pipeline)/events?after=0&limit=1000&wait=2")
            let events = (page.body as? [String: Any])?["events"] as? [[String: Any]] ?? []
            return events.contains {
                (($0["event"] as? [String: Any])?["after"] as? [String: Any])?["v"] as? String == value
            }
        }
    }

    static func streaming(_ service: APIFlowTests.Service, _ pipeline: String) async throws -> [String: Any] {
        var status: [String: Any] = [:]
        _ = try await eventually {
            status = (try await service.call("GET", "/v1/pipelines/\(pipeline)/status").body as? [String: Any]) ?? [:]
            return status["state"] as? String == "streaming"
        }
        return status
    }

    @Test(.timeLimit(.minutes(5)))
    func noKeyFileRemainsOnceAClientCertificatePipelineStreams() async throws {
        let tls = try await TestPostgresTLS.shared()
        let certificates = try TestCertificates.shared()
        let read = { (path: String) in try String(contentsOfFile: path, encoding: .utf8) }
        let database = try tls.server.createDatabase(prefix: "keyfile")
        let role = TestPostgresTLS.certificateRole
        try tls.server.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, v text);
            ALTER TABLE t REPLICA IDENTITY FULL;
            GRANT SELECT ON t TO \(role);
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)
        let service = try APIFlowTests.Service()
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "cert", "host": "localhost", "port": tls.port, "database": database, "user": role,
                "sslmode": "verify-full", "sslrootcert_pem": try read(certificates.ca),
                "sslcert_pem": try read(certificates.clientCertificate),
                "sslkey_pem": try read(certificates.encryptedClientKey),
                "sslpassword": try read(certificates.passphraseFile).trimmingCharacters(in: .newlines),
            ])
        let sourceID = try #require((created.body as? [String: Any])?["id"] as? String, "\(created.raw)")
        let credentials = service.directory.appendingPathComponent("credentials")

        let pipeline = "k\(database)"
        let put = try await service.call(
            "PUT", "/v1/pipelines/\(pipeline)", json: ["source_id": sourceID, "desired_state": "running"])
        #expect(put.status == 201, "\(put.raw)")
        let status = try await Self.streaming(service, pipeline)
        #expect(status["state"] as? String == "streaming", "\(status)")
        try tls.server.execute("INSERT INTO t VALUES (1, 'first')", database: database)
        #expect(try await Self.streamedRow(service, pipeline, "first"))
        // The pipeline holds its replication connection open; its key, certificate and CA are gone from disk.
        #expect(Self.files(under: credentials) == [], "\(Self.files(under: credentials))")
        let check = try await service.call("POST", "/v1/sources/\(sourceID)/check")
        #expect(check.raw.contains("\"connect\""), "\(check.raw)")
        #expect(Self.files(under: credentials) == [], "after a check: \(Self.files(under: credentials))")

        // A restart opens new connections, which write their copies again.
        let restarted = try await service.call("POST", "/v1/pipelines/\(pipeline)/restart")
        #expect(restarted.status == 200, "\(restarted.raw)")
        try tls.server.execute("INSERT INTO t VALUES (2, 'after restart')", database: database)
        #expect(try await Self.streamedRow(service, pipeline, "after restart"))
        let again = try await Self.streaming(service, pipeline)
        #expect((again["tls"] as? [String: Any])?["verified"] as? Bool == true, "\(again)")
        #expect(Self.files(under: credentials) == [], "\(Self.files(under: credentials))")

        // A dropped connection: the worker reconnects by itself, writing its copies again.
        let terminated = try tls.server.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '\(role)' "
                + "AND datname = '\(database)' AND backend_type = 'walsender'")
        #expect(terminated.rows == [["1"]], "\(terminated.rows)")
        try tls.server.execute("INSERT INTO t VALUES (3, 'after reconnect')", database: database)
        #expect(try await Self.streamedRow(service, pipeline, "after reconnect"))
        #expect(Self.files(under: credentials) == [], "\(Self.files(under: credentials))")

        // A copy left by a process killed mid-handshake goes when the service resumes.
        await service.registry.shutdown()
        let leftover = credentials.appendingPathComponent("\(sourceID)/client.key.AbC123")
        #expect(FileManager.default.createFile(atPath: leftover.path, contents: Data("key".utf8)))
        await service.registry.resume()
        #expect(!FileManager.default.fileExists(atPath: leftover.path))
        #expect(try await Self.streaming(service, pipeline)["state"] as? String == "streaming")

        _ = try await service.call("DELETE", "/v1/pipelines/\(pipeline)?drop_slot=true")
        await service.stop()
    }
}
