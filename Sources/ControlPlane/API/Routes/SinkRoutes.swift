// /v1/pipelines/{id}/sinks/{name}/check: connects to one sink's target with
// the sink's stored settings (secrets included) and reports what delivery
// needs, like the source check: each result with its remediation.

import Blocking
import HTTPServer
import Sinks

struct SinkRoutes: Sendable {
    let context: APIContext

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        guard case .pipelineSinkCheck(let id, let name) = route else { throw Problem.notFound("no such sink route") }
        return try await Respond.only("POST", request) {
            let pipeline = try await context.pipeline(id)
            guard let sink = pipeline.sinks.first(where: { $0.name == name }) else {
                throw Problem.notFound(
                    "pipeline \(id) has no sink named \(name) (it has: \(pipeline.sinks.map(\.name).joined(separator: ", ")))"
                )
            }
            // Every target call blocks (libnats, librdkafka, sockets).
            let report = await Blocking.run { SinkChecker.run(sink, pipelineID: pipeline.id) }
            return Respond.json(Self.representation(report))
        }
    }

    static func representation(_ report: SinkCheckReport) -> JSON {
        [
            "passed": report.passed, "sink": report.sink, "type": report.type, "target": report.target,
            "checks": JSON.array(
                report.checks.map { check in
                    [
                        "id": check.id, "title": check.title, "status": check.status.rawValue, "detail": check.detail,
                        "remediation": check.remediation.map(JSON.string) ?? .null,
                    ]
                }),
        ]
    }
}
