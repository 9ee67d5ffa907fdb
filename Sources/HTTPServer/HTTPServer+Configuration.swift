// Everything an operator (or a test) can tune on the server: where it listens, how
// many clients it holds, the request limits and the timeouts.

/// The settings of an `HTTPServer`. Defaults suit the control plane; tests shorten the timeouts.
public struct HTTPServerConfiguration: Sendable {
    /// An IPv4 or IPv6 address (`127.0.0.1`, `::1`, `0.0.0.0`) or a host name that resolves locally.
    public var host: String
    /// The port; 0 picks a free one (read it from `HTTPServer.start()` or `boundPort`).
    public var port: Int
    public var backlog: Int = 511
    /// Connections served at once; one more is answered 503 and closed.
    public var maxConnections: Int = 1024
    /// Longest request-line (method, target, version) → 414.
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Largest header section → 431.
    public var maxHeaderBytes: Int = 32 * 1024
    /// Most header fields → 431.
    public var maxHeaderCount: Int = 100
    /// Largest request body → 413.
    public var maxBodyBytes: Int = 1024 * 1024
    /// Time allowed for a request's head to arrive, from the start of the connection or
    /// of the request → 408 and close.
    public var headerTimeout: Duration = .seconds(10)
    /// A keep-alive connection idle this long is closed; so is one where a body upload
    /// or a response download makes no progress for this long.
    public var idleTimeout: Duration = .seconds(60)
    /// On shutdown, how long in-flight requests get before their connections are cut.
    public var shutdownDeadline: Duration = .seconds(10)

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }

    var parserLimits: HTTPRequestParser.Limits {
        HTTPRequestParser.Limits(
            maxRequestLine: maxRequestLineBytes, maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount,
            maxBodyBytes: maxBodyBytes
        )
    }
}
