// GET /v1/pipelines/{id}/schemas (the newest version of every captured
// table) and /schemas/{schema}.{table} (one table's history, oldest first):
// the pipeline's schema registry, read from its store whether or not the
// pipeline runs. Versions are written by `SchemaJSON`, like the `s` events
// and `popsink-pg schemas`, so the three describe a version with the same
// members.

import Blocking
import CDC
import EventStore
import HTTPServer
import JSONText

struct SchemaRoutes: Sendable {
    let context: APIContext

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .pipelineSchemas(let id):
            return try await Respond.only("GET", request) { try await latest(id) }
        case .pipelineTableSchema(let id, let qualified):
            return try await Respond.only("GET", request) { try await history(id, qualified) }
        default:
            throw Problem.notFound("no route for \(request.path)")
        }
    }

    private func latest(_ id: String) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        let versions = try await read(id) { (reader) throws(EventStoreError) in try reader.latestTableSchemas() }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("tables")
        try Self.write(versions, into: &writer)
        writer.endObject()
        return .json(writer.bytes)
    }

    private func history(_ id: String, _ qualified: String) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        // Split at the first dot: `public.a.b` is table `a.b` of `public`.
        guard let dot = qualified.firstIndex(of: "."), dot != qualified.startIndex,
            qualified.index(after: dot) != qualified.endIndex
        else {
            throw Problem.invalid([("table", "must be schema.table, for example public.users; got '\(qualified)'")])
        }
        let schema = String(qualified[..<dot])
        let table = String(qualified[qualified.index(after: dot)...])
        let versions = try await read(id) { (reader) throws(EventStoreError) in
            try reader.tableSchemaHistory(schema: schema, table: table)
        }
        guard !versions.isEmpty else {
            throw Problem.notFound(
                "pipeline \(id) has no schema versions of \(qualified): it has captured no change or snapshot row of it; GET /v1/pipelines/\(id)/schemas lists the tables it has"
            )
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("schema")
        writer.string(schema)
        writer.key("table")
        writer.string(table)
        writer.key("versions")
        try Self.write(versions, into: &writer)
        writer.endObject()
        return .json(writer.bytes)
    }

    /// Runs `body` on the pipeline's store off the cooperative pool; a
    /// pipeline that has not created its store yet has no versions.
    private func read(
        _ id: String, _ body: @escaping @Sendable (EventStoreReader) throws(EventStoreError) -> [StoredTableSchema]
    ) async throws -> [StoredTableSchema] {
        let path = context.dataDirectory.eventStorePath(pipelineID: id)
        guard let reader = try await EventStoreReader.openIfCreated(path: path) else { return [] }
        defer { reader.close() }
        let result: Result<[StoredTableSchema], EventStoreError> = await Blocking.run {
            Result { () throws(EventStoreError) in try body(reader) }
        }
        return try result.get()
    }

    /// `[{"change","columns","commit_lsn","lsn","relation_oid","schema","table","version"}, …]`
    /// (`SchemaJSON`, the writer of the `s` event's columns and change).
    static func write(_ versions: [StoredTableSchema], into writer: inout JSONWriter) throws {
        writer.beginArray()
        for version in versions { try SchemaJSON.write(version, into: &writer) }
        writer.endArray()
    }
}
