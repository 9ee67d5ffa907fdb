// Failed bearer-token attempts are limited per client address: after a burst
// of failures the address gets 429 with Retry-After, whatever token it sends,
// while other addresses are served; the count drains with time and a
// success forgives it.

import CDC
import Foundation
import HTTPServer
import Testing

@testable import ControlPlane

@Suite struct AuthRateLimitTests {
    @Test(.timeLimit(.minutes(5)))
    func repeatedBadTokensOverTheSocketGet429WithRetryAfter() async throws {
        // serve's burst, but nothing drains during the test: at 6 s per failure
        // forgiven, a loaded machine's slow requests were forgiven before the 11th.
        let service = try APIFlowTests.Service(
            token: "the-right-token", authFailurePolicy: .init(burst: 10, refillInterval: .seconds(3600)))
        defer { Task { await service.stop() } }
        for attempt in 1...10 {
            let answer = try await service.call("GET", "/v1/sources", token: "guess-\(attempt)")
            #expect(answer.status == 401, "attempt \(attempt): \(answer.raw)")
        }
        let limited = try await service.call("GET", "/v1/sources", token: "guess-11")
        #expect(limited.status == 429, "\(limited.raw)")
        let retryAfter = Int(limited.headers["Retry-After"] as? String ?? "")
        #expect(retryAfter.map { $0 >= 1 } == true, "\(limited.headers)")
        #expect(limited.raw.contains("auth-rate-limited"))
        // The right token is not even checked while the address waits: a guesser learns nothing.
        let right = try await service.call("GET", "/v1/sources", token: "the-right-token")
        #expect(right.status == 429)
        // Probes stay open.
        #expect(try await service.call("GET", "/healthz").status == 200)
    }

    @Test func otherAddressesAreServedAndASuccessForgives() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("auth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.sqlite").path)
        let dataDirectory = DataDirectory(path: directory.path)
        let router = APIRouter(
            store: store, registry: PipelineRegistry(store: store, dataDirectory: dataDirectory),
            dataDirectory: dataDirectory, token: "right",
            authFailurePolicy: .init(burst: 3, refillInterval: .seconds(600)))
        func get(_ token: String?, from remote: String) async -> HTTPResponse {
            var headers: HTTPHeaders = [:]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            return await router.handle(
                HTTPRequest(method: "GET", target: "/v1/sources", headers: headers, remoteAddress: remote))
        }
        for _ in 0..<3 { #expect(await get("wrong", from: "10.0.0.1:1000").status == 401) }
        #expect(await get(nil, from: "10.0.0.1:1001").status == 429, "a missing token counts too")
        #expect(await get("right", from: "10.0.0.2:1000").status == 200)
        #expect(await get("right", from: "[fd00::1]:1000").status == 200)

        // Two failures, then the right token: the address starts again from zero.
        for _ in 0..<2 { #expect(await get("wrong", from: "10.0.0.3:1").status == 401) }
        #expect(await get("right", from: "10.0.0.3:2").status == 200)
        for _ in 0..<2 { #expect(await get("wrong", from: "10.0.0.3:3").status == 401) }
        #expect(await get("right", from: "10.0.0.3:4").status == 200)
    }

    @Test func theCountDrainsOneFailurePerInterval() {
        var limiter = AuthFailureLimiter(policy: .init(burst: 2, refillInterval: .seconds(10), maxClients: 2))
        let start = ContinuousClock.now
        limiter.failed(client: "a", now: start)
        #expect(limiter.retryAfter(client: "a", now: start) == nil)
        limiter.failed(client: "a", now: start)
        #expect(limiter.retryAfter(client: "a", now: start) == .seconds(10))
        let later = limiter.retryAfter(client: "a", now: start + .seconds(4))
        #expect(later.map { ($0 / .milliseconds(1)).rounded() } == 6000)
        #expect(limiter.retryAfter(client: "a", now: start + .seconds(10)) == nil)
        // Tracking is bounded: a third address evicts the one closest to forgiven.
        limiter.failed(client: "b", now: start + .seconds(10))
        limiter.failed(client: "c", now: start + .seconds(10))
        #expect(limiter.trackedClients == 2)
        #expect(AuthFailureLimiter.client(ofRemoteAddress: "[::1]:80") == "::1")
        #expect(AuthFailureLimiter.client(ofRemoteAddress: "127.0.0.1:80") == "127.0.0.1")
    }
}
