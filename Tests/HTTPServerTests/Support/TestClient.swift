// A tiny raw-socket HTTP/1.1 client for live tests. Non-blocking socket, polled with
// short sleeps, so a test never blocks a thread of the cooperative pool (the
// server's handlers need those threads too).
import Glibc

@testable import HTTPServer

/// How long the client waits for the server by default. Generous on purpose: on a busy
/// CI machine a test task can sit unscheduled for seconds, and the bound only costs
/// time when the awaited event never comes. Tests assert on what happens, not on how
/// quickly (timings belong in benchmarks).
let testTimeout = Duration.seconds(30)

struct TestClientError: Error, CustomStringConvertible {
    let description: String
}

/// A response as the test client read it.
struct TestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var sawEndOfFile = false

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit { close() }

    /// `receiveBuffer` shrinks the kernel's receive buffer (set before connecting, so
    /// the TCP window is small too). `source` binds the client to a local address first:
    /// all of 127.0.0.0/8 is loopback on Linux, so tests can play many client addresses.
    static func connect(
        port: Int, host: String = "127.0.0.1", receiveBuffer: Int32? = nil, source: String? = nil
    ) throws -> TestClient {
        let address = try SocketAddress.resolve(host: host, port: port)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket: \(errno)") }
        if var size = receiveBuffer {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source {
            let local = try SocketAddress.resolve(host: source, port: 0)
            guard local.withSockAddr({ bind(fd, $0, $1) }) == 0 else {
                let code = errno
                Glibc.close(fd)
                throw TestClientError(description: "bind \(source): \(String(cString: strerror(code)))")
            }
        }
        // Loopback connects complete (or fail) at once.
        let status = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        guard status == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestClientError(description: "connect: \(String(cString: strerror(code)))")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return TestClient(fd: fd)
    }

    private var closed = false

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Closes with RST (SO_LINGER 0), the way a crashing client disappears.
    func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8], timeout: Duration = testTimeout) async throws {
        var offset = 0
        let deadline = ContinuousClock.now + timeout
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                offset += count
            } else if errno == EAGAIN || errno == EINTR {
                guard ContinuousClock.now < deadline else { throw TestClientError(description: "send timed out") }
                try await Task.sleep(for: .milliseconds(1))
            } else {
                throw TestClientError(description: "send: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Reads whatever is available into the buffer; false on EOF or reset.
    private func fill(deadline: ContinuousClock.Instant) async throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer += chunk[..<count]
                return true
            }
            if count == 0 || (errno != EAGAIN && errno != EINTR) {
                sawEndOfFile = true
                return false
            }
            guard ContinuousClock.now < deadline else { throw TestClientError(description: "read timed out") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    private func take(_ count: Int) -> [UInt8] {
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// The next CRLF-terminated line, without the CRLF.
    private func readLine(deadline: ContinuousClock.Instant) async throws -> String {
        while true {
            if let lf = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = take(lf + 1)
                return String(decoding: line.dropLast(2), as: UTF8.self)
            }
            guard try await fill(deadline: deadline) else { throw TestClientError(description: "closed mid-line") }
        }
    }

    private func readExactly(_ count: Int, deadline: ContinuousClock.Instant) async throws -> [UInt8] {
        while buffer.count < count {
            guard try await fill(deadline: deadline) else { throw TestClientError(description: "closed mid-body") }
        }
        return take(count)
    }

    /// Status line and header fields.
    func readHead(timeout: Duration = testTimeout) async throws -> TestResponse {
        let deadline = ContinuousClock.now + timeout
        let statusLine = try await readLine(deadline: deadline)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw TestClientError(description: "bad status line: \(statusLine)")
        }
        var headers = HTTPHeaders()
        while true {
            let line = try await readLine(deadline: deadline)
            if line.isEmpty { break }
            let colon = line.firstIndex(of: ":")!
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
        }
        return TestResponse(status: status, headers: headers, body: [])
    }

    /// One whole response (a 1xx comes back on its own). `head` for responses to HEAD.
    func readResponse(head: Bool = false, timeout: Duration = testTimeout) async throws -> TestResponse {
        let deadline = ContinuousClock.now + timeout
        var response = try await readHead(timeout: timeout)
        if head || (100...199).contains(response.status) || response.status == 204 || response.status == 304 {
            return response
        }
        if response.headers["Transfer-Encoding"] == "chunked" {
            while let chunk = try await readChunk(timeout: deadline - ContinuousClock.now) { response.body += chunk }
        } else if let length = response.headers["Content-Length"].flatMap({ Int($0) }) {
            response.body = try await readExactly(length, deadline: deadline)
        } else {
            while try await fill(deadline: deadline) {}
            response.body = take(buffer.count)
        }
        return response
    }

    /// The data of the next chunk of a chunked body; nil after the last chunk.
    func readChunk(timeout: Duration = testTimeout) async throws -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        let sizeLine = try await readLine(deadline: deadline)
        guard let size = Int(sizeLine, radix: 16) else {
            throw TestClientError(description: "bad chunk size: \(sizeLine)")
        }
        if size == 0 {
            _ = try await readLine(deadline: deadline)
            return nil
        }
        let data = try await readExactly(size, deadline: deadline)
        _ = try await readExactly(2, deadline: deadline)
        return data
    }

    /// True while the server has neither sent anything nor closed the connection.
    var isOpenAndSilent: Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// True once the server has closed the connection (EOF or reset) within `timeout`;
    /// data still arriving is read and dropped.
    func waitForClose(timeout: Duration = testTimeout) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        do {
            while try await fill(deadline: deadline) { buffer.removeAll() }
            return true
        } catch is TestClientError {
            return false
        }
    }
}
