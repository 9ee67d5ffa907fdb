// /v1/pipelines/{id}/backfills[/{backfill_id}]: on-demand backfills. POST
// asks a running pipeline to read tables' rows again, as `r` events, while
// streaming goes on; GET shows each backfill's progress. A backfill starts at
// the pipeline's next marker in the WAL and from then on is kept in the
// pipeline's store, so it resumes after a restart; the list of a pipeline
// that does not run is read from its store.

import Blocking
import CDC
import EventStore
import Foundation
import HTTPServer

struct BackfillRoutes: Sendable {
    let context: APIContext

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .pipelineBackfills(let id):
            switch request.method {
            case "GET", "HEAD":
                _ = try await context.pipeline(id)
                return Respond.json(JSON.object([("backfills", .array(try await backfills(id).map(Self.backfill)))]))
            case "POST": return try await create(id, request)
            default: throw Respond.methodNotAllowed(["GET", "POST"])
            }
        case .pipelineBackfill(let id, let backfillID):
            return try await Respond.only("GET", request) {
                _ = try await context.pipeline(id)
                guard let backfill = try await backfills(id).first(where: { $0.id == backfillID }) else {
                    throw Problem.notFound("pipeline \(id) has no backfill \(backfillID)")
                }
                return Respond.json(Self.backfill(backfill))
            }
        default:
            throw Problem.notFound("no route for \(request.path)")
        }
    }

    private func create(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        var input = try JSONInput(request, allowed: ["tables"])
        let tables = input.stringList("tables", in: input.object["tables"])
        if tables == nil || tables!.isEmpty { input.fail("tables", "must be a non-empty list of schema.table names") }
        for (index, table) in (tables ?? []).enumerated() where !table.contains(".") {
            input.fail("tables[\(index)]", "must be schema.table")
        }
        try input.validate()
        guard let backfill = try await context.registry.requestBackfill(id, tables: tables ?? []) else {
            throw Problem.conflict(
                "pipeline \(id) is not running; start it, then ask for the backfill",
                type: "urn:popsink:problem:pipeline-not-running")
        }
        return Respond.json(Self.backfill(backfill), status: 202)
    }

    /// The live list of a running pipeline, else the one in its store.
    private func backfills(_ id: String) async throws -> [Backfill] {
        if context.registry.config(id) != nil { return context.registry.status(id).backfills }
        let path = context.dataDirectory.eventStorePath(pipelineID: id)
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let stored: Result<String?, EventStoreError> = await Blocking.run {
            Result { () throws(EventStoreError) in
                let reader = try EventStoreReader(path: path)
                defer { reader.close() }
                return try reader.metadata(Backfill.metadataKey)
            }
        }
        return Backfill.decode(try stored.get())
    }

    /// `{"id","tables","state","requested_at","chunks_done","chunks_total","rows","error"}`.
    static func backfill(_ backfill: Backfill) -> JSON {
        .object([
            ("id", .string(backfill.id)), ("tables", .array(backfill.tables.map { .string($0) })),
            ("state", .string(backfill.state.rawValue)),
            ("requested_at", .string(Timestamps.iso8601(unixMicroseconds: backfill.requestedAt))),
            ("chunks_done", .integer(Int64(backfill.chunksDone))),
            ("chunks_total", .integer(Int64(backfill.chunks.count))),
            ("rows", .integer(backfill.rows)), ("error", backfill.error.map { .string($0) } ?? .null),
        ])
    }
}
