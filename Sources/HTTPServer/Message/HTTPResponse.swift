// A response as a handler returns it. The server adds the framing headers
// (`Content-Length` or chunked), `Date`, `Server` and `Connection` when it writes it.

/// An HTTP response: status, header fields and a body that is either complete or streamed.
public struct HTTPResponse: Sendable {
    /// A response body.
    public enum Body: Sendable {
        /// The whole body; the server sends it with `Content-Length`.
        case bytes([UInt8])
        /// A body produced incrementally (Server-Sent Events, long downloads). The server
        /// sends it chunked (close-delimited to HTTP/1.0 clients) and ends it when the
        /// closure returns; if the closure throws, the connection is closed mid-body so
        /// the client can tell the response is incomplete. The closure is not run for
        /// HEAD requests or for statuses without content (1xx, 204, 304).
        case stream(@Sendable (any HTTPBodyWriter) async throws -> Void)
    }

    public var status: Int
    /// Header fields to send. `Content-Length`, `Transfer-Encoding` and `Connection`
    /// are the server's to set; a `Connection: close` here closes the connection after
    /// the response. Fields with invalid names or with CR, LF or NUL in values are dropped.
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: Int = 200, headers: HTTPHeaders = [:], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Whether this status may carry content (RFC 9110 §6.4.1: not 1xx, 204 or 304).
    var statusAllowsContent: Bool {
        !(100...199).contains(status) && status != 204 && status != 304
    }

    /// Whether a streamed body should run for a request with `method`.
    func streamsBody(forMethod method: String) -> Bool {
        guard case .stream = body else { return false }
        return method != "HEAD" && statusAllowsContent
    }
}
