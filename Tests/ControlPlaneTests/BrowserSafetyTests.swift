// Without a token the API answers only requests a browser cannot have been
// tricked into: the service's own host names, same-origin, JSON for effects.
// Live, over a real socket, against the dispatch `serve` runs.

import Foundation
import HTTPServer
import PostgresTestSupport
import Testing

@testable import ControlPlane

@Suite struct BrowserSafetyTests {
    static func port(_ service: APIFlowTests.Service) -> Int { Int(service.base.split(separator: ":").last!)! }

    @Test(.timeLimit(.minutes(5)))
    func aRebindingHostIsRefusedAndTheServicesOwnNamesAreNot() async throws {
        let service = try APIFlowTests.Service()
        let port = Self.port(service)
        for host in ["rebind.attacker.example:\(port)", "127.example.com:\(port)", "localhost.attacker.example"] {
            let answer = try RawHTTP.send(port: port, "GET", "/v1/sources", headers: [("Host", host)])
            #expect(answer.status == 403, "\(host): \(answer.text)")
            #expect(answer.text.contains("application/problem+json") && answer.text.contains("host-not-allowed"))
        }
        for host in ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)", "LOCALHOST", "127.0.0.1"] {
            let answer = try RawHTTP.send(port: port, "GET", "/v1/sources", headers: [("Host", host)])
            #expect(answer.status == 200, "\(host): \(answer.text)")
        }
        // Probes answer anyone.
        let probe = try RawHTTP.send(
            port: port, "GET", "/healthz",
            headers: [("Host", "rebind.attacker.example"), ("Sec-Fetch-Site", "cross-site")])
        #expect(probe.status == 200)
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func aCrossSiteBodylessStopIsRefusedAndTheSameOriginOneWorks() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT("id int PRIMARY KEY")
        let service = try APIFlowTests.Service()
        let port = Self.port(service)
        let sourceID = try await service.registerSource(postgres, database: database)
        let pipelineID = "p\(database)"
        _ = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)", json: ["source_id": sourceID, "desired_state": "running"])
        func state() async throws -> String? {
            (try await service.call("GET", "/v1/pipelines/\(pipelineID)/status").body as? [String: Any])?["state"]
                as? String
        }
        #expect(try await eventually { try await state() == "streaming" })

        let own = "127.0.0.1:\(port)"
        let stop = "/v1/pipelines/\(pipelineID)/stop"
        // What a page elsewhere can send without a preflight: a form POST, or fetch in no-cors mode.
        let crossSite = [
            [("Host", own), ("Origin", "http://attacker.example"), ("Sec-Fetch-Site", "cross-site")],
            [("Host", own), ("Origin", "null")],
            [("Host", own), ("Sec-Fetch-Site", "same-site"), ("Content-Type", "application/json")],
        ]
        for headers in crossSite {
            let answer = try RawHTTP.send(port: port, "POST", stop, headers: headers)
            #expect(answer.status == 403, "\(headers): \(answer.text)")
            #expect(answer.text.contains("cross-site"))
        }
        let created = try RawHTTP.send(
            port: port, "POST", "/v1/sources",
            headers: [("Host", own), ("Origin", "http://attacker.example"), ("Content-Type", "text/plain")],
            body: #"{"name":"x","host":"attacker.example","database":"d","user":"u"}"#)
        #expect(created.status == 403)
        // Same origin but no JSON content type: refused, bodyless or not.
        let plain = try RawHTTP.send(port: port, "POST", stop, headers: [("Host", own), ("Origin", "http://\(own)")])
        #expect(plain.status == 415, "\(plain.text)")
        #expect(try await state() == "streaming")
        #expect(((try await service.call("GET", "/v1/sources")).body as? [Any])?.count == 1)

        // The dashboard's own request: same origin, JSON.
        let dashboard = try RawHTTP.send(
            port: port, "POST", stop,
            headers: [
                ("Host", own), ("Origin", "http://\(own)"), ("Sec-Fetch-Site", "same-origin"),
                ("Content-Type", "application/json"),
            ])
        #expect(dashboard.status == 200, "\(dashboard.text)")
        #expect(try await state() == "stopped")
        // A link to the dashboard from elsewhere still opens it; the API behind it does not answer.
        let navigation = [("Host", own), ("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "navigate")]
        #expect(try RawHTTP.send(port: port, "GET", "/", headers: navigation).status == 200)
        #expect(try RawHTTP.send(port: port, "GET", "/v1/pipelines", headers: navigation).status == 403)
        _ = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func theBearerSchemeIsCaseInsensitiveAndNeverACookie() async throws {
        let token = "t0ken-\(UUID().uuidString)"
        let service = try APIFlowTests.Service(token: token)
        let port = Self.port(service)
        let host = ("Host", "127.0.0.1:\(port)")
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let answer = try RawHTTP.send(
                port: port, "GET", "/v1/sources", headers: [host, ("Authorization", "\(scheme) \(token)")])
            #expect(answer.status == 200, "\(scheme): \(answer.text)")
        }
        for cookie in ["token=\(token)", "Authorization=Bearer \(token)", "popsink_token=\(token)"] {
            let answer = try RawHTTP.send(port: port, "GET", "/v1/sources", headers: [host, ("Cookie", cookie)])
            #expect(answer.status == 401)
        }
        #expect(
            try RawHTTP.send(port: port, "GET", "/v1/sources", headers: [host, ("Authorization", "Basic \(token)")])
                .status == 401)
        // With a token a non-browser client need not send a content type on a bodyless POST.
        let check = try RawHTTP.send(
            port: port, "POST", "/v1/sources/none/check", headers: [host, ("Authorization", "Bearer \(token)")])
        #expect(check.status == 404)
        await service.stop()
    }

    @Test func hostHeadersAreMatchedByNameNotByPrefix() {
        let loopbackOnly = RequestGuard(listenHost: nil, tokenRequired: false)
        #expect(loopbackOnly.accepts(host: "localhost:8080") && loopbackOnly.accepts(host: "[::1]:1"))
        #expect(!loopbackOnly.accepts(host: "127.example.com") && !loopbackOnly.accepts(host: "localhost.evil"))
        #expect(!loopbackOnly.accepts(host: "10.0.0.5:8080"))
        let named = RequestGuard(listenHost: "popsink.internal", tokenRequired: false)
        #expect(named.accepts(host: "popsink.internal:8080") && !named.accepts(host: "10.0.0.5"))
        let wildcard = RequestGuard(listenHost: "0.0.0.0", tokenRequired: false)
        #expect(wildcard.accepts(host: "10.0.0.5:8080") && wildcard.accepts(host: "[fe80::1]:8080"))
        #expect(!wildcard.accepts(host: "rebind.attacker.example:8080"))
    }

    @Test func loopbackMeansAnAddressNotANamePrefix() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "LocalHost"] {
            #expect(ListenHost.isLoopback(host), "\(host)")
        }
        for host in ["127.example.com", "127.0.0.1.nip.io", "0.0.0.0", "10.0.0.1", "127.0.0.256", "localhost.example"] {
            #expect(!ListenHost.isLoopback(host), "\(host)")
        }
    }

    @Test func theTokenFileToleratesCRLFAndRefusesEmptiness() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ text: String) throws -> String {
            let url = directory.appendingPathComponent(UUID().uuidString)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        #expect(try APIToken.read(fromFile: try file("s3cret\r\n")) == "s3cret")
        #expect(try APIToken.read(fromFile: try file("s3cret\n")) == "s3cret")
        #expect(try APIToken.read(fromFile: try file("s3cret")) == "s3cret")
        for empty in ["", "\n", "\r\n"] {
            #expect { try APIToken.read(fromFile: try file(empty)) } throws: { "\($0)".contains("is empty") }
        }
        #expect { try APIToken.read(fromFile: directory.appendingPathComponent("missing").path) } throws: {
            "\($0)".contains("Cannot read")
        }
    }
}
