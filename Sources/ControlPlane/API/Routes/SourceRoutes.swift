// /v1/sources: register, read, update and delete Postgres sources; check one
// against capture's prerequisites; list its tables.

import Foundation
import HTTPServer
import SourceCheck

struct SourceRoutes: Sendable {
    let context: APIContext

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .sources:
            switch request.method {
            case "GET": return Respond.json(try await context.store.sources().map(Representation.source))
            case "POST": return try await create(request)
            default: throw Respond.methodNotAllowed(["GET", "POST"])
            }
        case .source(let id):
            switch request.method {
            case "GET": return Respond.json(Representation.source(try await context.source(id)))
            case "PUT": return try await update(id, request)
            case "DELETE":
                try await context.registry.deleteSource(id)
                return .status(204)
            default: throw Respond.methodNotAllowed(["GET", "PUT", "DELETE"])
            }
        case .sourceCheck(let id):
            return try await Respond.only("POST", request) {
                let source = try await context.source(id)
                let publication = request.queryValue("publication") ?? SourceChecker.defaultPublication
                let settings = try context.credentials.settings(for: source)
                let report = await SourceChecker.run(settings: settings, publication: publication)
                // The same report `popsink-pg check --json` prints.
                return .json(report.json)
            }
        default:
            return try await Respond.only("GET", request) { try await SourceTables.respond(context, route, request) }
        }
    }

    private func create(_ request: HTTPRequest) async throws -> HTTPResponse {
        let now = Timestamps.now()
        let id = "src_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let blank = SourceRecord(id: id, host: "", database: "", user: "", createdAt: now, updatedAt: now)
        let record = try SourceFields.read(
            request, onto: blank, creating: true, certificateDirectory: context.certificateDirectory)
        try await context.store.save(record)
        var response = Respond.json(Representation.source(record), status: 201)
        response.headers["Location"] = "/v1/sources/\(id)"
        return response
    }

    /// Replaces the fields given; a missing password keeps the stored one, null removes it.
    private func update(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        var record = try SourceFields.read(
            request, onto: try await context.source(id), creating: false,
            certificateDirectory: context.certificateDirectory)
        if record.sslrootcertPEM == nil && record.sslcertPEM == nil && record.sslkeyPEM == nil {
            context.credentials.remove(sourceID: id)
        }
        record.updatedAt = Timestamps.now()
        try await context.store.save(record)
        return Respond.json(Representation.source(record))
    }
}

/// The fields of a source's body (openapi.yaml: SourceInput), mapped onto a record once for create and update.
enum SourceFields {
    static let allowed: Set<String> = [
        "name", "host", "port", "database", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey",
        "sslrootcert_pem", "sslcert_pem", "sslkey_pem", "sslpassword", "options",
        "max_connections",
    ]
    /// Fields that name a file on the service's machine.
    static let pathFields = ["sslrootcert", "sslcert", "sslkey"]

    /// `record` with the body's fields set: on create, `host`, `database` and
    /// `user` are required; `name` never may be null; a nullable field given
    /// as null is cleared, one left out is kept.
    static func read(
        _ request: HTTPRequest, onto record: SourceRecord, creating: Bool, certificateDirectory: String?
    ) throws(Problem) -> SourceRecord {
        var input = try JSONInput(request, allowed: allowed)
        var record = record
        record.name = input.string("name", required: true) ?? record.name
        let required: [(String, WritableKeyPath<SourceRecord, String>)] = [
            ("host", \.host), ("database", \.database), ("user", \.user), ("sslmode", \.sslmode),
        ]
        for (field, path) in required {
            if let value = input.string(field, required: creating && field != "sslmode") {
                record[keyPath: path] = value
            }
        }
        let nullable: [(String, WritableKeyPath<SourceRecord, String?>)] = [
            ("password", \.password), ("sslrootcert", \.sslrootcert), ("sslcert", \.sslcert), ("sslkey", \.sslkey),
            ("sslrootcert_pem", \.sslrootcertPEM), ("sslcert_pem", \.sslcertPEM), ("sslkey_pem", \.sslkeyPEM),
            ("sslpassword", \.sslpassword),
        ]
        for (field, path) in nullable where input.has(field) { record[keyPath: path] = input.string(field) }
        if let port = input.integer("port") { record.port = port }
        if let options = input.stringMap("options") { record.options = options }
        if input.has("max_connections") { record.maxConnections = input.integer("max_connections") }
        var givenPaths = pathFields.filter { input.has($0) }.compactMap { field in
            record[keyPath: nullable.first { $0.0 == field }!.1].map { (field, $0) }
        }
        if let crl = record.options["sslcrl"], input.has("options") { givenPaths.append(("options.sslcrl", crl)) }
        for (field, path) in givenPaths {
            if let problem = CertificatePaths.problem(with: path, field: field, directory: certificateDirectory) {
                input.fail(field, problem)
            }
        }
        for error in record.validationErrors where error.field != "id" { input.fail(error.field, error.message) }
        try input.validate()
        return record
    }
}
