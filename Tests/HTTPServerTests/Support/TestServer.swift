// Starting a throwaway server on 127.0.0.1, port 0, for one test, and always
// stopping it; plus small helpers for coordinating with handlers.
import HTTPServer
import Synchronization
import Testing

/// Runs `body` against a fresh server and shuts the server down afterwards, even when
/// `body` throws. The header, idle and keep-alive timeouts default to a minute: in CI the whole
/// suite shares two cores with Postgres, kill -9 and bulk-load tests, and a test task
/// can go unscheduled for seconds between connecting and sending, or between two
/// requests, so a short timeout would fire on a healthy connection. Tests of a timeout
/// set it small themselves. Long timeouts do not slow shutdown down: idle and
/// half-sent connections are closed at once.
func withServer(
    _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    handler: @escaping HTTPHandler = { request in .text("\(request.method) \(request.target)") },
    _ body: (_ port: Int, _ server: HTTPServer) async throws -> Void
) async throws {
    var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
    configuration.headerTimeout = .seconds(60)
    configuration.idleTimeout = .seconds(60)
    configuration.keepAliveTimeout = .seconds(60)
    configuration.shutdownDeadline = .seconds(1)
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler)
    let port = try server.start()
    do {
        try await body(port, server)
    } catch {
        await server.shutdown()
        throw error
    }
    await server.shutdown()
}

/// A value shared between a handler and the test.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) {
        self.value = Mutex(value)
    }

    var current: Value { value.withLock { $0 } }

    func update(_ body: (inout Value) -> Void) {
        value.withLock { body(&$0) }
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. The
/// bound is generous: it only costs time when the condition never holds.
func eventually(timeout: Duration = testTimeout, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return condition()
}

/// Builds a request with CRLF line endings; `Content-Length` is added for a body
/// unless `headers` already frame it.
func rawRequest(
    _ method: String = "GET", _ target: String = "/", version: String = "HTTP/1.1",
    headers: [(String, String)] = [("Host", "test")], body: String? = nil
) -> String {
    var text = "\(method) \(target) \(version)\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    let framed = headers.contains { ["content-length", "transfer-encoding"].contains($0.0.lowercased()) }
    if let body, !framed { text += "Content-Length: \(body.utf8.count)\r\n" }
    text += "\r\n"
    if let body { text += body }
    return text
}
