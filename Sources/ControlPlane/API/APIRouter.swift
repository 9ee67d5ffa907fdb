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

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard let path = request.decodedPath else {
            return Problem(status: 400, title: "Bad Request", detail: "the path is not valid percent-encoding")
                .response(instance: request.path)
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        do {
            if segments == ["healthz"] { return try await only("GET", request) { .json(#"{"status":"ok"}"#) } }
            if segments == ["readyz"] { return try await only("GET", request) { await readiness() } }
            if segments == ["metrics"] {
                try authorize(request)
                return try await only("GET", request) { await renderMetrics() }
            }
            guard segments.first == "v1" else { throw Problem.notFound("no route for \(path)") }
            try authorize(request)
            return try await route(Array(segments.dropFirst()), request)
        } catch let problem as Problem {
            var response = problem.response(instance: request.path)
            if problem.status == 401 { response.headers["WWW-Authenticate"] = #"Bearer realm="popsink""# }
            return response
        } catch {
            return Problem(status: 500, title: "Internal Server Error", detail: "\(error)").response(instance: request.path)
        }
    }

    private func route(_ path: [String], _ request: HTTPRequest) async throws -> HTTPResponse {
        switch (path.first, path.count) {
        case ("sources", 1):
            switch request.method {
            case "GET": return json(try await store.sources().map(Representation.source))
            case "POST": return try await createSource(request)
            default: throw methodNotAllowed(["GET", "POST"])
            }
        case ("sources", 2):
            switch request.method {
            case "GET": return json(Representation.source(try await source(path[1])))
            case "PUT": return try await updateSource(path[1], request)
            case "DELETE": return try await deleteSource(path[1])
            default: throw methodNotAllowed(["GET", "PUT", "DELETE"])
            }
        case ("sources", 3) where path[2] == "check":
            return try await only("POST", request) {
                let source = try await source(path[1])
                let publication = request.queryValue("publication") ?? "popsink"
                let report = await SourceChecker.run(settings: source.connectionSettings, publication: publication)
                return .json([UInt8](try JSONEncoder().encode(report)))
            }
        case ("sources", 3) where path[2] == "tables":
            return try await only("GET", request) { try await sourceTables(path[1], request) }
        case ("pipelines", 1):
            switch request.method {
            case "GET": return json(try await pipelineList())
            case "POST": return try await putPipeline(nil, request)
            default: throw methodNotAllowed(["GET", "POST"])
            }
        case ("pipelines", 2):
            switch request.method {
            case "GET":
                let record = try await pipeline(path[1])
                return json(Representation.pipeline(record, state: registry.status(record.id).state))
            case "PUT": return try await putPipeline(path[1], request)
            case "DELETE": return try await deletePipeline(path[1], request)
            default: throw methodNotAllowed(["GET", "PUT", "DELETE"])
            }
        case ("pipelines", 3):
            let id = path[1]
            switch path[2] {
            case "start", "stop", "restart":
                return try await only("POST", request) {
                    let record = try await pipeline(id)
                    let status = try await lifecycle(path[2], id)
                    return json(Representation.status(status, record: try await store.pipeline(id: id) ?? record))
                }
            case "status":
                return try await only("GET", request) {
                    let record = try await pipeline(id)
                    return json(Representation.status(registry.status(id), record: record))
                }
            case "filters":
                return try await only("PUT", request) { try await putFilters(id, request) }
            case "events":
                return try await only("GET", request) { try await events(id, request) }
            default: break
            }
        case ("pipelines", 4) where path[2] == "events" && path[3] == "stream":
            return try await only("GET", request) { try await eventStream(path[1], request) }
        default: break
        }
        throw Problem.notFound("no route for /v1/\(path.joined(separator: "/"))")
    }

    private func lifecycle(_ command: String, _ id: String) async throws -> PipelineStatus {
        switch command {
        case "start": try await registry.start(id)
        case "stop": try await registry.stop(id)
        default: try await registry.restart(id)
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

    /// The route with ids replaced by `{id}`, so metrics labels stay bounded.
    public static func routeTemplate(_ path: String) -> String {
        let segments = path.split(separator: "/").map(String.init)
        guard segments.first == "v1", segments.count >= 3 else {
            return ["/healthz", "/readyz", "/metrics"].contains(path) || path.hasPrefix("/v1") ? path : "/static"
        }
        var template = segments
        template[2] = "{id}"
        return "/" + template.joined(separator: "/")
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
        let header = request.headers["authorization"] ?? ""
        let presented = header.hasPrefix("Bearer ") ? Array(header.utf8.dropFirst(7)) : []
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
