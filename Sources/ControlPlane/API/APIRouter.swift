// The REST API of openapi.yaml on top of the HTTP server: bearer
// authentication, routing to the route collection of each resource (sources,
// pipelines, events, system), and problem+json errors. Handlers are async and
// never block: blocking reads run through `Blocking`, pipelines on their threads.

import CDC
import EventStore
import Foundation
import HTTPServer
import Synchronization
import Telemetry

/// Answers API requests.
public final class APIRouter: Sendable {
    private let token: [UInt8]?
    private let authFailures: Mutex<AuthFailureLimiter>
    private let system: SystemRoutes
    private let sources: SourceRoutes
    private let pipelines: PipelineRoutes
    private let events: EventRoutes
    private let consumers: ConsumerRoutes
    private let schemas: SchemaRoutes
    private let ddlCapture: DDLCaptureRoutes
    private let backfills: BackfillRoutes
    private let sinks: SinkRoutes
    /// Prometheus series of pipelines and of this API.
    public let metrics: PopsinkMetrics

    /// - Parameter token: when set, every `/v1` route and `/metrics` need
    ///   `Authorization: Bearer <token>`; `/healthz` and `/readyz` stay open.
    /// - Parameter certificateDirectory: the only directory under which sources
    ///   may name `sslrootcert`, `sslcert`, `sslkey` and `sslcrl` files; nil
    ///   refuses paths (certificates and keys then come as PEM).
    public convenience init(
        store: any StateStore, registry: PipelineRegistry, dataDirectory: DataDirectory, token: String?,
        certificateDirectory: String? = nil
    ) {
        self.init(
            store: store, registry: registry, dataDirectory: dataDirectory, token: token,
            certificateDirectory: certificateDirectory, authFailurePolicy: AuthFailureLimiter.Policy())
    }

    init(
        store: any StateStore, registry: PipelineRegistry, dataDirectory: DataDirectory, token: String?,
        certificateDirectory: String? = nil, authFailurePolicy: AuthFailureLimiter.Policy
    ) {
        self.token = token.map { Array($0.utf8) }
        authFailures = Mutex(AuthFailureLimiter(policy: authFailurePolicy))
        let metrics = PopsinkMetrics()
        self.metrics = metrics
        let context = APIContext(
            store: store, registry: registry, dataDirectory: dataDirectory, metrics: metrics,
            certificateDirectory: certificateDirectory)
        system = SystemRoutes(context: context)
        sources = SourceRoutes(context: context)
        pipelines = PipelineRoutes(context: context)
        events = EventRoutes(context: context)
        consumers = ConsumerRoutes(context: context)
        schemas = SchemaRoutes(context: context)
        ddlCapture = DDLCaptureRoutes(context: context)
        backfills = BackfillRoutes(context: context)
        sinks = SinkRoutes(context: context)
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
            if problem.status == 429,
                case .integer(let seconds)? = problem.extensions.first(where: { $0.key == "retry_after" })?.value
            {
                response.headers["Retry-After"] = String(seconds)
            }
            return response
        }
    }

    private func respond(to route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .healthz, .readyz, .metrics: try await system.respond(route, request)
        case .sources, .source, .sourceCheck, .sourceTables: try await sources.respond(route, request)
        case .pipelines, .pipeline, .pipelineCommand, .pipelineStatus, .pipelineFilters:
            try await pipelines.respond(route, request)
        case .pipelineEvents, .pipelineEventStream: try await events.respond(route, request)
        case .pipelineConsumers, .pipelineConsumer: try await consumers.respond(route, request)
        case .pipelineSchemas, .pipelineTableSchema: try await schemas.respond(route, request)
        case .sourceDDLCapture: try await ddlCapture.respond(route, request)
        case .pipelineBackfills, .pipelineBackfill: try await backfills.respond(route, request)
        case .pipelineSinkCheck: try await sinks.respond(route, request)
        }
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

    private func authorize(_ request: HTTPRequest) throws(Problem) {
        guard let token else { return }
        let client = AuthFailureLimiter.client(ofRemoteAddress: request.remoteAddress)
        let now = ContinuousClock.now
        if let wait = authFailures.withLock({ $0.retryAfter(client: client, now: now) }) {
            let seconds = max(1, Int((wait / .seconds(1)).rounded(.up)))
            var problem = Problem(
                status: 429, title: "Too Many Requests",
                detail: "too many requests with a wrong or missing token from \(client); retry in \(seconds) s "
                    + "with the right token",
                type: "urn:popsink:problem:auth-rate-limited")
            problem.extensions = [("retry_after", .integer(Int64(seconds)))]
            throw problem
        }
        // Only from the Authorization header, never a cookie: a browser would
        // send a cookie along with a cross-site request. RFC 9110 §11.1: the
        // scheme is case-insensitive.
        let header = Substring(request.headers["authorization"] ?? "")
        let scheme = header.prefix { $0 != " " }
        let presented =
            scheme.lowercased() == "bearer"
            ? Array(header.dropFirst(scheme.count).drop { $0 == " " }.utf8) : []
        // Constant time in the token's length: no early exit on the first difference.
        var difference = UInt8(presented.count == token.count ? 0 : 1)
        for index in token.indices { difference |= token[index] ^ (index < presented.count ? presented[index] : 0) }
        guard difference == 0 else {
            authFailures.withLock { $0.failed(client: client, now: now) }
            throw Problem(status: 401, title: "Unauthorized", detail: "send Authorization: Bearer <token>")
        }
        authFailures.withLock { $0.succeeded(client: client) }
    }
}
