// The server's event loop: one thread waiting in `epoll_wait` on the listener,
// every connection and the inbox eventfd. All socket I/O happens here, never on
// the cooperative pool; handlers run as tasks, started on this thread (until
// they first suspend), and post their results back.
//
// Readiness is level-triggered and each wake-up does bounded work per connection
// (a read budget, one request in flight), so one fast or slow client cannot keep
// the loop from the others.

final class EventLoop {
    static let inboxToken: UInt64 = 0
    static let listenerToken: UInt64 = 1
    /// Bytes read from one connection per wake-up before moving on to the next.
    static let readBudget = 256 * 1024
    /// Input buffered beyond the request in flight before the loop stops reading.
    static let inputLimit = 64 * 1024
    /// Output queued before pipelined requests and body writers wait for the client.
    static let outputLimit = 64 * 1024
    /// Over-limit connections kept open at once just to be told 503.
    static let maxRejections = 64
    static let acceptBatch = 64
    /// How long the listener rests after EMFILE / ENFILE.
    static let acceptPause = Duration.milliseconds(100)

    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    let handlerExecutor: HandlerExecutor
    let epoll: EPoll
    let inbox: LoopInbox
    var listener: Socket?

    var connections: [UInt64: Connection] = [:]
    var nextID: UInt64 = 2
    var rejections = 0
    /// Connections served (rejections aside) per client IP address.
    var connectionsPerClient: [String: Int] = [:]
    var date = HTTPDate()
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var ready = EPoll.ReadyList(capacity: 256)

    let clock = ContinuousClock()
    var now: ContinuousClock.Instant
    /// The earliest connection deadline may be due then; nil when no deadline is set.
    var nextTimerScan: ContinuousClock.Instant?
    var listenerResumesAt: ContinuousClock.Instant?
    /// Set once shutdown begins: in-flight requests must be done by then.
    var shutdownDeadline: ContinuousClock.Instant?
    let lingerTimeout: Duration

    var isShuttingDown: Bool { shutdownDeadline != nil }

    init(
        configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler, handlerExecutor: HandlerExecutor,
        listener: Socket, epoll: EPoll, inbox: LoopInbox
    ) {
        self.configuration = configuration
        self.handler = handler
        self.handlerExecutor = handlerExecutor
        self.listener = listener
        self.epoll = epoll
        self.inbox = inbox
        now = clock.now
        lingerTimeout = min(.seconds(2), configuration.idleTimeout)
    }

    /// Serves until shutdown has completed, then closes every descriptor it owns.
    func run() {
        epoll.add(inbox.wakeup.fd, token: Self.inboxToken, events: .readable)
        if let listener { epoll.add(listener.fd, token: Self.listenerToken, events: .readable) }
        while !(isShuttingDown && connections.isEmpty) {
            epoll.wait(into: &ready, timeout: waitTimeout())
            now = clock.now
            for index in 0..<ready.count {
                let (token, events) = ready[index]
                switch token {
                case Self.inboxToken: receiveMessages()
                case Self.listenerToken: acceptConnections()
                default: if let connection = connections[token] { handle(events, on: connection) }
                }
            }
            fireTimers()
        }
        tearDown()
    }

    private func tearDown() {
        for connection in Array(connections.values) { destroy(connection, cancelTask: true) }
        listener?.close()
        listener = nil
        inbox.close()
        epoll.close()
        readBuffer.deallocate()
    }

    // MARK: - Timers

    /// Notes that some deadline falls at `instant`.
    func schedule(_ instant: ContinuousClock.Instant) {
        if nextTimerScan.map({ instant < $0 }) ?? true { nextTimerScan = instant }
    }

    private func waitTimeout() -> Int32 {
        let next = [nextTimerScan, listenerResumesAt, shutdownDeadline].compactMap { $0 }.min()
        guard let next else { return -1 }
        let (seconds, attoseconds) = (next - clock.now).components
        guard seconds >= 0, seconds < 3600 else { return seconds < 0 ? 0 : 3_600_000 }
        // Rounded up: waking a millisecond early would only spin once more.
        return Int32(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    private func fireTimers() {
        if let resume = listenerResumesAt, now >= resume { resumeListener() }
        if let deadline = shutdownDeadline, now >= deadline {
            for connection in Array(connections.values) { destroy(connection, cancelTask: true) }
            return
        }
        guard let scan = nextTimerScan, now >= scan else { return }
        nextTimerScan = nil
        for connection in Array(connections.values) where !connection.isClosed {
            if let deadline = connection.deadline, deadline <= now { timedOut(connection) }
            if !connection.isClosed, let deadline = connection.deadline { schedule(deadline) }
        }
    }

    /// The deadline of a connection follows from what it is doing:
    /// - before a complete head: `headerTimeout` from the start of the request (or of
    ///   the connection) → 408;
    /// - idle between keep-alive requests: `keepAliveTimeout`, and no later than
    ///   `maxConnectionAge` from the accept → closed quietly;
    /// - receiving a body: `idleTimeout` without progress, and no later than
    ///   `requestTimeout` from the request's first byte → 408;
    /// - sending while the client does not read: `idleTimeout` without progress → closed;
    /// - waiting for a handler or a streamed body with nothing queued: none.
    func updateDeadline(_ connection: Connection) {
        guard !connection.isClosed else { return }
        let idle = configuration.idleTimeout
        let deadline: ContinuousClock.Instant?
        switch connection.phase {
        case .reading:
            if !connection.output.isEmpty {
                deadline = connection.lastWrite + idle
            } else if connection.parser.isReadingBody {
                deadline = min(connection.lastRead + idle, connection.requestStart + configuration.requestTimeout)
            } else if connection.parser.isIdle, connection.requestsServed > 0 {
                deadline = min(
                    connection.idleSince + configuration.keepAliveTimeout,
                    connection.createdAt + configuration.maxConnectionAge)
            } else {
                deadline = connection.requestStart + min(configuration.headerTimeout, configuration.requestTimeout)
            }
        case .handling, .streaming:
            deadline = connection.output.isEmpty ? nil : connection.lastWrite + idle
        case .closing:
            deadline = connection.lastWrite + (connection.isRejection ? lingerTimeout : idle)
        case .lingering:
            deadline = connection.idleSince + lingerTimeout
        }
        connection.deadline = deadline
        if let deadline { schedule(deadline) }
    }

    private func timedOut(_ connection: Connection) {
        switch connection.phase {
        case .reading where connection.isHandshaking:
            // A TLS handshake that did not finish in time: there is no channel to answer 408 on.
            destroy(connection)
        case .reading where connection.output.isEmpty && !(connection.parser.isIdle && connection.requestsServed > 0):
            let detail =
                connection.parser.isReadingBody
                ? "The request body did not arrive within \(configuration.requestTimeout) of the request's start, "
                    + "or made no progress for \(configuration.idleTimeout); send the body without pauses."
                : "The request head did not arrive within \(configuration.headerTimeout); send the whole head at once."
            respondWithError(408, detail: detail, on: connection)
            updateInterest(connection)
            updateDeadline(connection)
        default:
            destroy(connection)
        }
    }
}
