// /v1/pipelines/{id}/backfills[/{backfill_id}]: backfills. POST asks a
// running pipeline to read tables' rows again (all, or those matching a
// condition), as `r` events, while streaming goes on; GET shows each
// backfill's progress, the automatic ones of new tables included; DELETE
// cancels one. A condition is a list of {column, op, value} predicates
// (`RowCondition`), never SQL text. Requests and cancels are stored in the pipeline's store
// before the answer (`PipelineBackfills`).

import CDC
import Foundation
import HTTPServer
import PostgresReplication
import PostgresWire

struct BackfillRoutes: Sendable {
    let context: APIContext
    private var backfills: PipelineBackfills {
        PipelineBackfills(registry: context.registry, dataDirectory: context.dataDirectory)
    }

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .pipelineBackfills(let id):
            switch request.method {
            case "GET", "HEAD":
                _ = try await context.pipeline(id)
                return Respond.json(
                    JSON.object([("backfills", .array(try await backfills.list(id).map(Self.backfill)))]))
            case "POST": return try await create(id, request)
            default: throw Respond.methodNotAllowed(["GET", "POST"])
            }
        case .pipelineBackfill(let id, let backfillID):
            switch request.method {
            case "GET", "HEAD":
                _ = try await context.pipeline(id)
                guard let backfill = try await backfills.list(id).first(where: { $0.id == backfillID }) else {
                    throw Problem.notFound("pipeline \(id) has no backfill \(backfillID)")
                }
                return Respond.json(Self.backfill(backfill))
            case "DELETE":
                _ = try await context.pipeline(id)
                switch try await backfills.cancel(id, backfillID) {
                case .accepted(let backfill): return Respond.json(Self.backfill(backfill), status: 202)
                case .unknown: throw Problem.notFound("pipeline \(id) has no backfill \(backfillID)")
                case .finished(let backfill):
                    throw Problem.conflict(
                        "backfill \(backfillID) is \(backfill.state.rawValue) already: there is nothing to cancel",
                        type: "urn:popsink:problem:backfill-finished")
                }
            default: throw Respond.methodNotAllowed(["GET", "DELETE"])
            }
        default:
            throw Problem.notFound("no route for \(request.path)")
        }
    }

    private func create(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        var input = try JSONInput(request, allowed: ["tables", "where", "max_rows_per_second"])
        let shared = input.rowCondition("where", in: input.object["where"])
        let cap = input.integer("max_rows_per_second")
        if let cap, cap < 1 { input.fail("max_rows_per_second", "must be at least 1") }
        var tables: [String] = []
        var predicates: [String: RowCondition] = [:]
        if let list = input.object["tables"] as? [Any], !list.isEmpty {
            for (index, item) in list.enumerated() {
                let field = "tables[\(index)]"
                var name: String?
                var condition = shared
                switch item {
                case let text as String: name = text
                case let object as [String: Any]:
                    for key in object.keys.sorted() where key != "name" && key != "where" {
                        input.fail("\(field).\(key)", "is not a known field")
                    }
                    name = object["name"] as? String
                    if name == nil { input.fail("\(field).name", "must be a schema.table name") }
                    if let own = input.rowCondition("\(field).where", in: object["where"]) { condition = own }
                default:
                    input.fail(field, "must be a schema.table name or an object with name and where")
                }
                guard let name else { continue }
                if !name.contains(".") { input.fail(field, "must be schema.table") }
                if tables.contains(name) { input.fail(field, "names \(name) twice") }
                tables.append(name)
                if let condition { predicates[name] = condition }
            }
        } else {
            input.fail("tables", "must be a non-empty list of schema.table names (or {name, where} objects)")
        }
        try input.validate()
        let backfill = Backfill(
            id: Backfill.newID(), tables: tables, requestedAt: WallClock.unixMicroseconds(), predicates: predicates,
            maxRowsPerSecond: cap)
        let requested: PipelineBackfills.Requested
        do {
            requested = try await backfills.request(id, backfill)
        } catch let error as PostgresError {
            // The conditions could not be checked against the tables: the source is down or refused the connection.
            throw Problem.sourceUnavailable(error)
        }
        switch requested {
        case .accepted(let backfill):
            return Respond.json(Self.backfill(backfill), status: 202)
        case .notRunning:
            throw Problem.conflict(
                "pipeline \(id) is not running; start it, then ask for the backfill",
                type: "urn:popsink:problem:pipeline-not-running")
        case .refused(let refusal):
            var problem = Problem(
                status: 422, title: "Invalid condition",
                detail: "the condition on \(refusal.table) was refused: \(refusal.message)",
                type: "urn:popsink:problem:invalid-condition")
            problem.extensions = [("table", .string(refusal.table))]
            if let column = refusal.column { problem.extensions.append(("column", .string(column))) }
            if let sqlState = refusal.sqlState { problem.extensions.append(("sqlstate", .string(sqlState))) }
            throw problem
        }
    }

    /// The `Backfill` of openapi.yaml.
    static func backfill(_ backfill: Backfill) -> JSON {
        .object([
            ("id", .string(backfill.id)), ("tables", .array(backfill.tables.map { .string($0) })),
            ("trigger", .string(backfill.trigger.rawValue)),
            (
                "where",
                .object(backfill.predicates.sorted { $0.key < $1.key }.map { ($0.key, $0.value.representation) })
            ),
            ("where_sql", .object(backfill.conditions.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("max_rows_per_second", backfill.maxRowsPerSecond.map { .integer(Int64($0)) } ?? .null),
            ("state", .string(backfill.state.rawValue)),
            ("cancel_requested", .bool(backfill.cancelRequested)),
            ("stopped_at", backfill.stoppedAt.map { .string($0.description) } ?? .null),
            ("requested_at", .string(Timestamps.iso8601(unixMicroseconds: backfill.requestedAt))),
            ("chunks_done", .integer(Int64(backfill.chunksDone))),
            ("chunks_total", .integer(Int64(backfill.chunks.count))),
            ("rows", .integer(backfill.rows)), ("error", backfill.error.map { .string($0) } ?? .null),
        ])
    }
}
