// Errors as RFC 9457 problem details (`application/problem+json`), with the
// offending field named for validation failures (openapi.yaml: Problem,
// ValidationProblem).

import Foundation
import HTTPServer

/// An API error that knows its HTTP status and builds its own response.
struct Problem: Error {
    let status: Int
    let title: String
    let detail: String
    var type = "about:blank"
    var fieldErrors: [(field: String, message: String)] = []
    /// Members beyond RFC 9457's (openapi.yaml names them per problem type).
    var extensions: [(key: String, value: JSON)] = []

    static func notFound(_ detail: String) -> Problem { Problem(status: 404, title: "Not Found", detail: detail) }
    static func badRequest(_ detail: String) -> Problem {
        Problem(status: 400, title: "Bad Request", detail: detail, type: "urn:popsink:problem:invalid-json")
    }
    static func conflict(_ detail: String, type: String) -> Problem {
        Problem(status: 409, title: "Conflict", detail: detail, type: type)
    }
    static func invalid(_ errors: [(field: String, message: String)]) -> Problem {
        Problem(
            status: 422, title: "Unprocessable Content",
            detail: errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "),
            type: "urn:popsink:problem:validation", fieldErrors: errors)
    }

    /// 410 `events-expired`: retention deleted events after the client's cursor.
    static func expired(firstAvailableAfter: Int64) -> Problem {
        var problem = Problem(
            status: 410, title: "Events expired",
            detail:
                "events after this cursor were deleted by retention; resume from \(firstAvailableAfter) and re-sync what was missed",
            type: "urn:popsink:problem:events-expired")
        problem.extensions = [("first_available_after", .integer(firstAvailableAfter))]
        return problem
    }

    func response(instance: String) -> HTTPResponse {
        var members: [(key: String, value: JSON)] = [
            ("type", .string(type)), ("title", .string(title)), ("status", .integer(Int64(status))),
            ("detail", .string(detail)), ("instance", .string(instance)),
        ]
        members += extensions
        if !fieldErrors.isEmpty {
            members.append(("errors", .array(fieldErrors.map { ["field": $0.field, "message": $0.message] })))
        }
        return .json(JSON.object(members).bytes, status: status, contentType: "application/problem+json")
    }
}
