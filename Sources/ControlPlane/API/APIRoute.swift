// The routes of openapi.yaml, parsed from a request path once. The router
// dispatches on them and the HTTP metrics label requests with their
// `template`, so a label can only be one of the paths of openapi.yaml (or one
// of two fixed values): a client probing random paths cannot grow the number
// of Prometheus series.

/// One operation path of openapi.yaml, with its id.
enum APIRoute: Equatable, Sendable {
    case healthz, readyz, metrics
    case sources
    case source(String)
    case sourceCheck(String)
    case sourceTables(String)
    case pipelines
    case pipeline(String)
    case pipelineCommand(String, PipelineCommand)
    case pipelineStatus(String)
    case pipelineFilters(String)
    case pipelineEvents(String)
    case pipelineEventStream(String)
    case pipelineConsumers(String)
    /// A pipeline's id and a consumer's name.
    case pipelineConsumer(String, String)
    case pipelineSchemas(String)
    /// A pipeline's id and a table as `schema.table`.
    case pipelineTableSchema(String, String)
    case sourceDDLCapture(String)
    case pipelineBackfills(String)
    /// A pipeline's id and a backfill's.
    case pipelineBackfill(String, String)
    /// A pipeline's id and a sink's name.
    case pipelineSinkCheck(String, String)

    enum PipelineCommand: String, Sendable {
        case start, stop, restart
    }

    /// The metrics label of a path under `/v1` that is no route.
    static let unknownAPIPath = "other"
    /// The metrics label of every other path: the dashboard's files and their 404s.
    static let staticPath = "/static"

    /// The route of a decoded path's segments (empty ones dropped), or nil.
    init?(segments: [Substring]) {
        switch segments.first {
        case "healthz" where segments.count == 1: self = .healthz
        case "readyz" where segments.count == 1: self = .readyz
        case "metrics" where segments.count == 1: self = .metrics
        case "v1":
            guard let route = Self.v1(segments.dropFirst()) else { return nil }
            self = route
        default: return nil
        }
    }

    private static func v1(_ path: ArraySlice<Substring>) -> APIRoute? {
        let path = Array(path)
        guard let first = path.first else { return nil }
        let id = path.count > 1 ? String(path[1]) : ""
        switch (first, path.count) {
        case ("sources", 1): return .sources
        case ("sources", 2): return .source(id)
        case ("sources", 3) where path[2] == "check": return .sourceCheck(id)
        case ("sources", 3) where path[2] == "tables": return .sourceTables(id)
        case ("sources", 3) where path[2] == "ddl-capture": return .sourceDDLCapture(id)
        case ("pipelines", 1): return .pipelines
        case ("pipelines", 2): return .pipeline(id)
        case ("pipelines", 3):
            if let command = PipelineCommand(rawValue: String(path[2])) { return .pipelineCommand(id, command) }
            switch path[2] {
            case "status": return .pipelineStatus(id)
            case "filters": return .pipelineFilters(id)
            case "events": return .pipelineEvents(id)
            case "consumers": return .pipelineConsumers(id)
            case "schemas": return .pipelineSchemas(id)
            case "backfills": return .pipelineBackfills(id)
            default: return nil
            }
        case ("pipelines", 4) where path[2] == "events" && path[3] == "stream": return .pipelineEventStream(id)
        case ("pipelines", 4) where path[2] == "consumers": return .pipelineConsumer(id, String(path[3]))
        case ("pipelines", 4) where path[2] == "schemas": return .pipelineTableSchema(id, String(path[3]))
        case ("pipelines", 4) where path[2] == "backfills": return .pipelineBackfill(id, String(path[3]))
        case ("pipelines", 5) where path[2] == "sinks" && path[4] == "check":
            return .pipelineSinkCheck(id, String(path[3]))
        default: return nil
        }
    }

    /// The path as openapi.yaml writes it, `{id}` for the id.
    var template: String {
        switch self {
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        case .metrics: "/metrics"
        case .sources: "/v1/sources"
        case .source: "/v1/sources/{id}"
        case .sourceCheck: "/v1/sources/{id}/check"
        case .sourceTables: "/v1/sources/{id}/tables"
        case .pipelines: "/v1/pipelines"
        case .pipeline: "/v1/pipelines/{id}"
        case .pipelineCommand(_, let command): "/v1/pipelines/{id}/\(command.rawValue)"
        case .pipelineStatus: "/v1/pipelines/{id}/status"
        case .pipelineFilters: "/v1/pipelines/{id}/filters"
        case .pipelineEvents: "/v1/pipelines/{id}/events"
        case .pipelineEventStream: "/v1/pipelines/{id}/events/stream"
        case .pipelineConsumers: "/v1/pipelines/{id}/consumers"
        case .pipelineConsumer: "/v1/pipelines/{id}/consumers/{name}"
        case .pipelineSchemas: "/v1/pipelines/{id}/schemas"
        case .pipelineTableSchema: "/v1/pipelines/{id}/schemas/{schema}.{table}"
        case .sourceDDLCapture: "/v1/sources/{id}/ddl-capture"
        case .pipelineBackfills: "/v1/pipelines/{id}/backfills"
        case .pipelineBackfill: "/v1/pipelines/{id}/backfills/{backfill_id}"
        case .pipelineSinkCheck: "/v1/pipelines/{id}/sinks/{name}/check"
        }
    }

    /// The segments of a percent-decoded path, as the router matches them.
    static func segments(_ decodedPath: String) -> [Substring] {
        decodedPath.split(separator: "/", omittingEmptySubsequences: true)
    }
}
