// The public face of the server: bind, run the event loop on its own thread, and
// stop gracefully, in the style of swift-service-lifecycle (`run()` returns once the
// server has stopped; `shutdown()` or cancelling `run()` stops it).
import Synchronization

/// Handles one request. It starts on the event loop's thread and runs there until
/// it first suspends (then on Swift's cooperative pool): it may suspend freely, but
/// must never block, and should suspend before a long computation, which would
/// hold up every other connection meanwhile.
public typealias HTTPHandler = @Sendable (HTTPRequest) async -> HTTPResponse

/// An HTTP/1.1 server on non-blocking POSIX sockets and an epoll event loop.
///
/// ```swift
/// let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 8080)) { request in
///     .text("hello")
/// }
/// try await server.run()   // until shutdown() or cancellation
/// ```
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    private let handler: HTTPHandler

    private struct Running: Sendable {
        let inbox: LoopInbox
        let stopped: Latch
        let port: Int
    }

    private enum State: Sendable {
        case idle
        case running(Running)
        case stopped
    }

    private let state = Mutex(State.idle)

    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// A server dropped while running must not leave its thread serving forever.
    deinit {
        if case .running(let running) = state.withLock({ $0 }) { running.inbox.post(.shutdown) }
    }

    /// Binds the listening socket and starts the event-loop thread; returns the bound
    /// port. Throws if the server was started before.
    @discardableResult
    public func start() throws(HTTPServerError) -> Int {
        try state.withLock { state throws(HTTPServerError) -> Int in
            guard case .idle = state else {
                throw HTTPServerError(
                    .alreadyStarted, "the server was already started", remediation: "Create a new HTTPServer.")
            }
            let running = try Self.launch(configuration, handler)
            state = .running(running)
            return running.port
        }
    }

    /// The port the server listens on, once started.
    public var boundPort: Int? {
        state.withLock { state in
            if case .running(let running) = state { return running.port }
            return nil
        }
    }

    /// Starts the server if needed and returns once it has stopped. Cancelling the
    /// calling task shuts the server down gracefully.
    public func run() async throws {
        let running: Running? = try state.withLock { state throws(HTTPServerError) -> Running? in
            switch state {
            case .idle:
                let running = try Self.launch(configuration, handler)
                state = .running(running)
                return running
            case .running(let running):
                return running
            case .stopped:
                return nil
            }
        }
        guard let running else { return }
        await withTaskCancellationHandler {
            await running.stopped.wait()
        } onCancel: {
            running.inbox.post(.shutdown)
        }
    }

    /// Begins a graceful shutdown without waiting for it: stop accepting, close idle
    /// connections, let in-flight requests finish until `shutdownDeadline`.
    public func triggerShutdown() {
        let running: Running? = state.withLock { state in
            switch state {
            case .idle:
                state = .stopped
                return nil
            case .running(let running):
                return running
            case .stopped:
                return nil
            }
        }
        running?.inbox.post(.shutdown)
    }

    /// Shuts down gracefully and returns once the event loop has exited.
    public func shutdown() async {
        triggerShutdown()
        let running: Running? = state.withLock { state in
            if case .running(let running) = state { return running }
            return nil
        }
        await running?.stopped.wait()
    }

    private static func launch(_ configuration: HTTPServerConfiguration, _ handler: @escaping HTTPHandler)
        throws(HTTPServerError)
        -> Running
    {
        SystemThread.ignoreSIGPIPE()
        let address = try SocketAddress.resolve(host: configuration.host, port: configuration.port)
        let listener = try Socket.listening(on: address, backlog: Int32(clamping: configuration.backlog))
        var cleanup = [listener.close]
        do throws(HTTPServerError) {
            guard let port = listener.localAddress?.port else {
                throw HTTPServerError.system(.socketFailed, "getsockname", 0)
            }
            let epoll = try EPoll()
            cleanup.append(epoll.close)
            let inbox = try LoopInbox()
            cleanup.append(inbox.close)
            let handlerExecutor = try HandlerExecutor.shared.get()
            let stopped = Latch()
            try SystemThread.spawn(name: "popsink-http") {
                let loop = EventLoop(
                    configuration: configuration, handler: handler, handlerExecutor: handlerExecutor,
                    listener: listener, epoll: epoll, inbox: inbox)
                loop.run()
                stopped.open()
            }
            return Running(inbox: inbox, stopped: stopped, port: port)
        } catch {
            for close in cleanup { close() }
            throw error
        }
    }
}
