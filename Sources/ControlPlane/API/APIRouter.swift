// The REST API of openapi.yaml on top of the HTTP server: routing, bearer
// authentication, and problem+json errors. Handlers are async and never
// block: the state store runs on GRDB's queue, pipelines on their threads.

import CDC
import EventStore
import Foundation
import HTTPServer
import SourceCheck
import Telemetry

/// Answers API requests.
public final class APIRouter: Sendable {
    let store: any StateStore
    let registry: PipelineRegistry
    let dataDirectory: DataDirectory
    private let token: [UInt8]?
    /// Prometheus series of pipelines and of this API.
    public let metrics = PopsinkMetrics()

    /// - Parameter token: when set, every `/v1` route and `/metrics` need
    ///   `Authorization: Bearer <token>`; `/healthz` and `/readyz` stay open.
    public init(store: any StateStore, registry: PipelineRegistry, dataDirectory: DataDirectory, token: String?) {
        self.store = store
        self.registry = registry
        self.dataDirectory = dataDirectory
        self.token = token.map { Array($0.utf8) }
    }

    /// Whether every /v1 route and /metrics need the bearer token.
    public var requiresToken: Bool { token != nil }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard let path = request.decodedPath else {
            return Problem(status: 400, title: "Bad Request", detail: "the path is not valid percent-encoding")
                .response(instance: request.path)
        }
        let segments = APIRoute.segments(path)
        do {
            // Under /v1 the token comes first, so an unknown path tells an
            // unauthenticated client nothing.
            if segments.first == "v1" || segments == ["metrics"] { try authorize(request) }
            guard let route = APIRoute(segments: segments) else { throw Problem.notFound("no route for \(path)") }
            return try await respond(to: route, request)
        } catch {
            // A 500 names only a request id; what failed goes to the log.
            let problem = Problem(error)
            guard problem.status != 500 else { return InternalError.response(for: error, request) }
            var response = problem.response(instance: request.path)
            if problem.status == 401 { response.headers["WWW-Authenticate"] = #"Bearer realm="popsink""# }
            return response
        }
    }

    private func respond(to route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .healthz:
            return try await only("GET", request) { .json(#"{"status":"ok"}"#) }
        case .readyz:
            return try await only("GET", request) { await readiness() }
        case .metrics:
            return try await only("GET", request) { await renderMetrics() }
        case .sources:
            switch request.method {
            case "GET": return json(try await store.sources().map(Representation.source))
            case "POST": return try await createSource(request)
            default: throw methodNotAllowed(["GET", "POST"])
            }
        case .source(let id):
            switch request.method {
            case "GET": return json(Representation.source(try await source(id)))
            case "PUT": return try await updateSource(id, request)
            case "DELETE": return try await deleteSource(id)
            default: throw methodNotAllowed(["GET", "PUT", "DELETE"])
            }
        case .sourceCheck(let id):
            return try await only("POST", request) {
                let source = try await source(id)
                let publication = request.queryValue("publication") ?? "popsink"
                let report = await SourceChecker.run(settings: source.connectionSettings, publication: publication)
                return .json([UInt8](try JSONEncoder().encode(report)))
            }
        case .sourceTables(let id):
            return try await only("GET", request) { try await sourceTables(id, request) }
        case .pipelines:
            switch request.method {
            case "GET": return json(try await pipelineList())
            case "POST": return try await putPipeline(nil, request)
            default: throw methodNotAllowed(["GET", "POST"])
            }
        case .pipeline(let id):
            switch request.method {
            case "GET":
                let record = try await pipeline(id)
                return json(Representation.pipeline(record, state: registry.status(record.id).state))
            case "PUT": return try await putPipeline(id, request)
            case "DELETE": return try await deletePipeline(id, request)
            default: throw methodNotAllowed(["GET", "PUT", "DELETE"])
            }
        case .pipelineCommand(let id, let command):
            return try await only("POST", request) {
                let record = try await pipeline(id)
                let status = try await lifecycle(command, id)
                return json(Representation.status(status, record: try await store.pipeline(id: id) ?? record))
            }
        case .pipelineStatus(let id):
            return try await only("GET", request) {
                let record = try await pipeline(id)
                return json(Representation.status(registry.status(id), record: record))
            }
        case .pipelineFilters(let id):
            return try await only("PUT", request) { try await putFilters(id, request) }
        case .pipelineEvents(let id):
            return try await only("GET", request) { try await events(id, request) }
        case .pipelineEventStream(let id):
            return try await only("GET", request) { try await eventStream(id, request) }
        }
    }

    private func lifecycle(_ command: APIRoute.PipelineCommand, _ id: String) async throws -> PipelineStatus {
        switch command {
        case .start: try await registry.start(id)
        case .stop: try await registry.stop(id)
        case .restart: try await registry.restart(id)
        }
    }

    // MARK: - Helpers

    func source(_ id: String) async throws -> SourceRecord {
        guard let record = try await store.source(id: id) else { throw Problem.notFound("no source with id \(id)") }
        return record
    }

    func pipeline(_ id: String) async throws -> PipelineRecord {
        guard let record = try await store.pipeline(id: id) else { throw Problem.notFound("no pipeline with id \(id)") }
        return record
    }

    private func pipelineList() async throws -> [JSON] {
        var list: [JSON] = []
        for record in try await store.pipelines() {
            list.append(Representation.pipeline(record, state: registry.status(record.id).state))
        }
        return list
    }

    private func renderMetrics() async -> HTTPResponse {
        var samples: [PipelineSample] = []
        for record in (try? await store.pipelines()) ?? [] {
            let path = dataDirectory.eventStorePath(pipelineID: record.id)
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
            samples.append(PipelineSample(id: record.id, status: registry.status(record.id), storeBytes: bytes))
        }
        return .json(metrics.render(pipelines: samples), contentType: PopsinkMetrics.contentType)
    }

    /// The metrics label of a request path: its route's template from
    /// openapi.yaml (ids as `{id}`), `other` for any other path under `/v1`,
    /// `/static` for the rest (the dashboard). A fixed set, whatever clients send.
    public static func routeTemplate(for request: HTTPRequest) -> String {
        // A path that does not decode is answered 400 before routing.
        let segments = APIRoute.segments(request.decodedPath ?? request.path)
        if request.decodedPath != nil, let route = APIRoute(segments: segments) { return route.template }
        return segments.first == "v1" ? APIRoute.unknownAPIPath : APIRoute.staticPath
    }

    private func readiness() async -> HTTPResponse {
        guard let records = try? await store.pipelines() else {
            return json(["status": "not_ready", "reasons": ["the state store cannot be read"]] as JSON, status: 503)
        }
        var reasons: [String] = []
        for record in records where registry.status(record.id).state == .failed {
            reasons.append("pipeline \(record.id) failed")
        }
        return reasons.isEmpty
            ? json(["status": "ready", "reasons": [String]()] as JSON)
            : json(["status": "not_ready", "reasons": reasons] as JSON, status: 503)
    }

    private func authorize(_ request: HTTPRequest) throws(Problem) {
        guard let token else { return }
        // Only from the Authorization header, never a cookie: a browser would
        // send a cookie along with a cross-site request. RFC 9110 §11.1: the
        // scheme is case-insensitive.
        let header = Substring(request.headers["authorization"] ?? "")
        let scheme = header.prefix { $0 != " " }
        let presented = scheme.lowercased() == "bearer"
            ? Array(header.dropFirst(scheme.count).drop { $0 == " " }.utf8) : []
        // Constant time in the token's length: no early exit on the first difference.
        var difference = UInt8(presented.count == token.count ? 0 : 1)
        for index in token.indices { difference |= token[index] ^ (index < presented.count ? presented[index] : 0) }
        guard difference == 0 else {
            throw Problem(status: 401, title: "Unauthorized", detail: "send Authorization: Bearer <token>")
        }
    }

    private func only(
        _ method: String, _ request: HTTPRequest, _ body: () async throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        guard request.method == method || (method == "GET" && request.method == "HEAD") else {
            throw methodNotAllowed([method])
        }
        return try await body()
    }

    private func methodNotAllowed(_ allowed: [String]) -> Problem {
        Problem(status: 405, title: "Method Not Allowed", detail: "allowed: \(allowed.joined(separator: ", "))")
    }

    func json(_ value: some JSONRepresentable, status: Int = 200) -> HTTPResponse {
        .json(value.json.bytes, status: status)
    }
}
