// Everything an operator (or a test) can tune on the server: where it listens, how
// many clients it holds (in all and per client address), the request limits and
// the timeouts. Every timeout that a client could reset by trickling bytes has an
// absolute bound beside it, so no unauthenticated client holds a slot forever.

/// The settings of an `HTTPServer`. Defaults suit the control plane; tests shorten the timeouts.
public struct HTTPServerConfiguration: Sendable {
    /// An IPv4 or IPv6 address (`127.0.0.1`, `::1`, `0.0.0.0`) or a host name that resolves locally.
    public var host: String
    /// The port; 0 picks a free one (read it from `HTTPServer.start()` or `boundPort`).
    public var port: Int
    public var backlog: Int = 511
    /// Connections served at once; one more is answered 503 and closed. The default
    /// leaves half the process's descriptor limit to the stores and Postgres connections
    /// (`FileDescriptorBudget`).
    public var maxConnections: Int = FileDescriptorBudget.defaultMaxConnections()
    /// Connections served at once from one client IP address; one more is answered 503
    /// and closed, so one client cannot take every slot.
    public var maxConnectionsPerClient: Int = 64
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
    /// Time allowed for a whole request, head and body, from its first byte → 408 and
    /// close, however steadily the bytes trickle in.
    public var requestTimeout: Duration = .seconds(60)
    /// A body upload or a response download that makes no progress for this long is
    /// closed.
    public var idleTimeout: Duration = .seconds(60)
    /// A keep-alive connection with no request for this long is closed.
    public var keepAliveTimeout: Duration = .seconds(15)
    /// After this many requests a connection's response says `Connection: close`.
    public var maxRequestsPerConnection: Int = 1000
    /// A connection older than this gets `Connection: close` on its next response, and
    /// is closed if it sits idle: requests spaced just under `keepAliveTimeout` cannot
    /// hold a slot forever. A response still streaming (SSE) is not cut.
    public var maxConnectionAge: Duration = .seconds(600)
    /// On shutdown, how long in-flight requests get before their connections are cut.
    public var shutdownDeadline: Duration = .seconds(10)
    /// Serve HTTPS with this certificate and key; plain HTTP when nil. The
    /// handshake counts against `headerTimeout` like the request head it precedes.
    public var tls: HTTPServerTLS?

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
