// A source registered without an sslmode verifies the server: a server
// without TLS is refused instead of being spoken to in clear.

import Foundation
import PostgresTestSupport
import Testing

@Suite struct SourceDefaultsTests {
    @Test(.timeLimit(.minutes(5)))
    func sslmodeDefaultsToVerifyFullAndRefusesAServerWithoutTLS() async throws {
        let postgres = try await TestPostgres.shared()
        let service = try APIFlowTests.Service()
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "default", "host": postgres.host, "port": postgres.port, "database": "postgres",
                "user": postgres.superuser,
            ])
        #expect(created.status == 201)
        let source = try #require(created.body as? [String: Any], "\(created.raw)")
        #expect(source["sslmode"] as? String == "verify-full")
        let id = try #require(source["id"] as? String)
        let check = try await service.call("POST", "/v1/sources/\(id)/check")
        let checks = (check.body as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        let connect = try #require(checks.first { $0["id"] as? String == "connect" }, "\(check.raw)")
        #expect(connect["status"] as? String == "fail", "\(check.raw)")
        #expect("\(connect["detail"] ?? "")".contains("SSL"), "\(check.raw)")

        // Asking for less is allowed, and warned about.
        let plain = try await service.call(
            "PUT", "/v1/sources/\(id)",
            json: [
                "name": "default", "host": postgres.host, "port": postgres.port, "database": "postgres",
                "user": postgres.superuser, "sslmode": "prefer",
            ])
        #expect((plain.body as? [String: Any])?["sslmode"] as? String == "prefer", "\(plain.raw)")
        let warned = try await service.call("POST", "/v1/sources/\(id)/check")
        let tls = ((warned.body as? [String: Any])?["checks"] as? [[String: Any]] ?? []).first {
            $0["id"] as? String == "tls"
        }
        #expect(tls?["status"] as? String == "warn", "\(warned.raw)")
        #expect("\(tls?["detail"] ?? "")".contains("not encrypted"))
        await service.stop()
    }
}
