// Shorthands for the responses handlers build most: text, JSON, HTML, an empty
// status, and an event stream.

extension HTTPResponse {
    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: .bytes(Array(text.utf8)))
    }

    /// A JSON response from already encoded bytes. `contentType` lets callers send
    /// `application/problem+json` (RFC 9457) with the same helper.
    public static func json(_ bytes: [UInt8], status: Int = 200, contentType: String = "application/json")
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(bytes))
    }

    /// A JSON response from an already encoded string.
    public static func json(_ text: String, status: Int = 200, contentType: String = "application/json") -> HTTPResponse
    {
        json(Array(text.utf8), status: status, contentType: contentType)
    }

    /// A `text/html; charset=utf-8` response.
    public static func html(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "text/html; charset=utf-8"], body: .bytes(Array(text.utf8)))
    }

    /// A response with no content, e.g. `.status(204)`.
    public static func status(_ status: Int) -> HTTPResponse {
        HTTPResponse(status: status)
    }

    /// A `text/event-stream` response (Server-Sent Events) whose events `body` writes.
    /// Sets `Cache-Control: no-cache` so intermediaries do not buffer it.
    public static func eventStream(
        headers: HTTPHeaders = [:],
        _ body: @escaping @Sendable (any HTTPBodyWriter) async throws -> Void
    ) -> HTTPResponse {
        var fields = headers
        fields["Content-Type"] = "text/event-stream"
        if !fields.contains("Cache-Control") { fields["Cache-Control"] = "no-cache" }
        return HTTPResponse(status: 200, headers: fields, body: .stream(body))
    }
}
