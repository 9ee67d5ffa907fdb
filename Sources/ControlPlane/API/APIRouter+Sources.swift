// /v1/sources: create, update and delete registered Postgres sources.

import Foundation
import HTTPServer

extension APIRouter {
    private static let sourceFields: Set<String> = [
        "name", "host", "port", "database", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey", "options",
    ]

    func createSource(_ request: HTTPRequest) async throws -> HTTPResponse {
        var input = try JSONInput(request, allowed: Self.sourceFields)
        let now = Timestamps.now()
        let id = "src_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        var record = SourceRecord(
            id: id, name: input.string("name", required: true), host: input.string("host", required: true) ?? "",
            port: input.integer("port") ?? 5432, database: input.string("database", required: true) ?? "",
            user: input.string("user", required: true) ?? "", password: input.string("password"),
            sslmode: input.string("sslmode") ?? SourceRecord.defaultSSLMode, sslrootcert: input.string("sslrootcert"),
            sslcert: input.string("sslcert"), sslkey: input.string("sslkey"), options: input.stringMap("options") ?? [:],
            createdAt: now, updatedAt: now)
        try validate(&record, input)
        try await store.save(record)
        var response = json(Representation.source(record), status: 201)
        response.headers["Location"] = "/v1/sources/\(id)"
        return response
    }

    /// Replaces the fields given; a missing password keeps the stored one, null removes it.
    func updateSource(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        var record = try await source(id)
        var input = try JSONInput(request, allowed: Self.sourceFields)
        // Required as on create (SourceInput): a source's name is never null.
        record.name = input.string("name", required: true) ?? record.name
        if let host = input.string("host") { record.host = host }
        if let port = input.integer("port") { record.port = port }
        if let database = input.string("database") { record.database = database }
        if let user = input.string("user") { record.user = user }
        if input.has("password") { record.password = input.string("password") }
        if let sslmode = input.string("sslmode") { record.sslmode = sslmode }
        if input.has("sslrootcert") { record.sslrootcert = input.string("sslrootcert") }
        if input.has("sslcert") { record.sslcert = input.string("sslcert") }
        if input.has("sslkey") { record.sslkey = input.string("sslkey") }
        if let options = input.stringMap("options") { record.options = options }
        record.updatedAt = Timestamps.now()
        try validate(&record, input)
        try await store.save(record)
        return json(Representation.source(record))
    }

    func deleteSource(_ id: String) async throws -> HTTPResponse {
        try await registry.deleteSource(id)
        return .status(204)
    }

    private func validate(_ record: inout SourceRecord, _ input: JSONInput) throws(Problem) {
        var input = input
        for error in record.validationErrors where error.field != "id" { input.fail(error.field, error.message) }
        try input.validate()
    }
}
