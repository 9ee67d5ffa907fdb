// What every route collection works with, and the few steps they all take:
// look a record up or answer 404, render JSON, refuse a method.

import CDC
import HTTPServer
import Telemetry

/// The service's state as the routes see it.
struct APIContext: Sendable {
    let store: any StateStore
    let registry: PipelineRegistry
    let dataDirectory: DataDirectory
    let metrics: PopsinkMetrics
    /// Where certificate and key paths of API sources must lie; nil: paths are refused, PEM only.
    let certificateDirectory: String?

    var credentials: SourceCredentialFiles { SourceCredentialFiles(dataDirectory: dataDirectory) }

    func source(_ id: String) async throws -> SourceRecord {
        guard let record = try await store.source(id: id) else { throw Problem.notFound("no source with id \(id)") }
        return record
    }

    func pipeline(_ id: String) async throws -> PipelineRecord {
        guard let record = try await store.pipeline(id: id) else { throw Problem.notFound("no pipeline with id \(id)") }
        return record
    }
}

/// Helpers of the route collections.
enum Respond {
    static func json(_ value: some JSONRepresentable, status: Int = 200) -> HTTPResponse {
        .json(value.json.bytes, status: status)
    }

    /// Runs `body` for `method` (GET also answers HEAD), else 405.
    static func only(
        _ method: String, _ request: HTTPRequest, _ body: () async throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        guard request.method == method || (method == "GET" && request.method == "HEAD") else {
            throw methodNotAllowed([method])
        }
        return try await body()
    }

    static func methodNotAllowed(_ allowed: [String]) -> Problem {
        Problem(status: 405, title: "Method Not Allowed", detail: "allowed: \(allowed.joined(separator: ", "))")
    }
}
