// Everything the event loop knows about one client connection. Owned and touched
// only by the loop thread; handler tasks refer to it by `id`.

final class Connection {
    /// What the connection is doing. Requests are handled one at a time: pipelined
    /// requests wait in the parser's buffer, which keeps responses in request order.
    enum Phase {
        /// Waiting for, or receiving, the next request.
        case reading
        /// A handler is computing the response.
        case handling(ResponseContext)
        /// A streamed body is being written.
        case streaming(ResponseContext)
        /// Sending the last bytes; then close, after a lingering read if `linger`.
        case closing(linger: Bool)
        /// Write side shut; reading and discarding until the client closes too.
        case lingering
    }

    /// How the response to the request in flight must be framed and ended.
    struct ResponseContext {
        var keepAlive: Bool
        let isHead: Bool
        let version: HTTPVersion
        /// Streamed body sent chunked (HTTP/1.1) rather than close-delimited (HTTP/1.0).
        var chunked = false
    }

    let id: UInt64
    let socket: Socket
    let remoteAddress: String
    /// The client's IP address, which `maxConnectionsPerClient` counts by.
    let client: String
    /// Accepted over `maxConnections` or `maxConnectionsPerClient` only to be told 503.
    let isRejection: Bool
    /// `maxConnectionAge` runs from here.
    let createdAt: ContinuousClock.Instant

    /// The TLS session when the server serves HTTPS.
    var tls: TLSSession?
    var parser: HTTPRequestParser
    var output = OutputBuffer()
    var phase = Phase.reading
    var interest: EPoll.Events = []
    var isClosed = false
    /// The client shut its write side (or the socket reported EOF).
    var readClosed = false
    var requestsServed = 0

    /// When the current request (or, before the first, the connection) started: the
    /// header timeout runs from here.
    var requestStart: ContinuousClock.Instant
    /// Last time bytes arrived or left, and when the connection last went idle.
    var lastRead: ContinuousClock.Instant
    var lastWrite: ContinuousClock.Instant
    var idleSince: ContinuousClock.Instant
    var deadline: ContinuousClock.Instant?

    /// The handler task of the request in flight, cancelled if the client leaves while
    /// its body streams.
    var task: Task<Void, Never>?
    /// The watch of the request in flight, told when the client goes.
    var watch: ConnectionWatch?
    /// Body writers waiting for the output to drain.
    var waitingWriters: [CheckedContinuation<Void, any Error>] = []

    init(
        id: UInt64, socket: Socket, remote: SocketAddress, limits: HTTPRequestParser.Limits,
        isRejection: Bool, now: ContinuousClock.Instant
    ) {
        self.id = id
        self.socket = socket
        remoteAddress = remote.description
        client = remote.host
        self.isRejection = isRejection
        createdAt = now
        parser = HTTPRequestParser(limits: limits)
        requestStart = now
        lastRead = now
        lastWrite = now
        idleSince = now
    }

    var isReading: Bool {
        if case .reading = phase { return true }
        return false
    }

    var isStreaming: Bool {
        if case .streaming = phase { return true }
        return false
    }
}
