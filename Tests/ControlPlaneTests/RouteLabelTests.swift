// The `route` label of the HTTP metrics: one of the paths of openapi.yaml, or
// `other` (an unknown path under /v1), or `/static` (everything else), so that
// clients probing random paths cannot create Prometheus series without bound.

import Foundation
import HTTPServer
import Testing

@testable import ControlPlane

@Suite struct RouteLabelTests {
    typealias Service = APIFlowTests.Service

    /// The operation paths of openapi.yaml (`  /v1/pipelines/{id}:`).
    static let contractPaths: [String] = {
        let file = URL(fileURLWithPath: DashboardTests.publicFolder).deletingLastPathComponent()
            .appendingPathComponent("openapi.yaml").path
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            line.hasPrefix("  /") && line.hasSuffix(":") ? String(line.dropFirst(2).dropLast()) : nil
        }
    }()

    static var allowedLabels: Set<String> { Set(contractPaths).union(["other", "/static"]) }

    private func label(_ target: String) -> String {
        APIRouter.routeTemplate(for: HTTPRequest(method: "GET", target: target))
    }

    @Test func everyPathOfTheContractIsItsOwnLabelWhateverTheID() {
        #expect(Self.contractPaths.count >= 15, "openapi.yaml paths: \(Self.contractPaths)")
        for path in Self.contractPaths {
            for id in ["x", "pl_0a1b2c", "%7Bid%7D", "a%20b", String(repeating: "z", count: 5000)] {
                let target = path.replacingOccurrences(of: "{id}", with: id)
                #expect(label(target) == path, "\(target)")
                #expect(label(target + "?limit=1") == path, "\(target)")
            }
        }
    }

    @Test(arguments: [
        ("/v1", "other"), ("/v1/", "other"), ("/v1/nope", "other"), ("/v1/sources/a/b", "other"),
        ("/v1/sources/a/check/more", "other"), ("/v1/pipelines/x/unknown", "other"),
        ("/v1/pipelines/x/events/stream/extra", "other"), ("/v1/pipelines/x/events/other", "other"),
        ("/v1/a/b/c/d/e/f/g/h/i/j", "other"), ("/v1/%zz", "other"), ("/v1/sources/%zz", "other"),
        ("/v1/" + String(repeating: "a/", count: 2000), "other"), ("/v1/sources%2Fx%2Fcheck/y", "other"),
        ("//v1//sources", "/v1/sources"), ("/v1/sources/", "/v1/sources"), ("http://h/v1/pipelines", "/v1/pipelines"),
        ("/", "/static"), ("/index.html", "/static"), ("/../etc/passwd", "/static"), ("/a/b/c/d", "/static"),
        ("/healthz/extra", "/static"), ("/HEALTHZ", "/static"), ("/v1x/sources", "/static"), ("*", "/static"),
        ("/%zz", "/static"), ("/" + String(repeating: "%41", count: 3000), "/static"),
        ("/healthz", "/healthz"), ("/readyz", "/readyz"), ("/metrics", "/metrics"),
    ])
    func hostilePathsGetAFixedLabel(_ target: String, _ expected: String) {
        #expect(label(target) == expected, "\(target.prefix(80))")
        #expect(Self.allowedLabels.contains(label(target)))
    }

    /// Hundreds of random paths against the live service, then /metrics: the
    /// distinct `route` values are a few of the allowed ones, not one per path.
    @Test(.timeLimit(.minutes(5)))
    func randomPathsDoNotGrowTheRouteLabels() async throws {
        let service = try Service()
        func segment() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 36) }
        for round in 0..<400 {
            let depth = Int.random(in: 1...6)
            let tail = (0..<depth).map { _ in segment() }.joined(separator: "/")
            let path =
                switch round % 4 {
                case 0: "/v1/" + tail
                case 1: "/" + tail
                case 2: "/v1/pipelines/\(segment())/" + ["status", "events", "start", segment()].randomElement()!
                default: "/v1/sources/\(segment())"
                }
            let method = ["GET", "POST", "DELETE"].randomElement()!
            let response = try await service.call(method, path)
            #expect(response.status >= 400, "\(method) \(path)")
        }
        let metrics = try await service.call("GET", "/metrics").raw
        let routes = Set(
            metrics.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("popsink_http_requests_total{"),
                    let start = line.range(of: #"route=""#), let end = line[start.upperBound...].firstIndex(of: "\"")
                else { return nil }
                return String(line[start.upperBound..<end])
            })
        #expect(!routes.isEmpty, "\(metrics)")
        #expect(routes.isSubset(of: Self.allowedLabels), "\(routes.subtracting(Self.allowedLabels))")
        #expect(routes.count <= 8, "\(routes.sorted())")
        await service.stop()
    }
}
