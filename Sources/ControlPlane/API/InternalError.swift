// A 500 answers with a request id, never with the error itself: internal
// errors carry file paths, SQL and library messages that tell a client about
// the machine. The full error goes to the service's log under the same id.

import HTTPServer
import Logging

enum InternalError {
    private static let logger = Logger(label: "popsink-pg.api")

    static func response(for error: any Error, _ request: HTTPRequest) -> HTTPResponse {
        let id = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        logger.error("request \(id) \(request.method) \(request.path) failed: \(String(describing: error))")
        var response = Problem(
            status: 500, title: "Internal Server Error",
            detail: "The request failed inside the service; its log has the cause under request id \(id).",
            type: "urn:popsink:problem:internal"
        ).response(instance: request.path)
        response.headers["X-Request-Id"] = id
        return response
    }
}
