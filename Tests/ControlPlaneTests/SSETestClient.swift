// A raw-socket Server-Sent Events reader for live tests. It speaks HTTP/1.0, so
// the stream comes close-delimited (no chunk framing to undo), and polls a
// non-blocking socket with short sleeps, so it never blocks a thread of the
// cooperative pool that the server's handlers need too.

import Foundation
import Glibc

struct SSETestError: Error, CustomStringConvertible {
    let description: String
}

/// One message of the stream (WHATWG HTML §9.2.6, "Interpreting an event stream").
struct SSEMessage: Equatable {
    var id: String?
    var event: String?
    var data: String?
    var retry: String?
    var comment: String?
}

final class SSETestClient {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    private(set) var closed = false

    /// Connects to `base` (`http://127.0.0.1:PORT`) and sends `GET path` with `headers`.
    init(base: String, path: String, headers extra: [String: String] = [:]) throws {
        guard let port = Int(base.split(separator: ":").last ?? "") else {
            throw SSETestError(description: "no port in \(base)")
        }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SSETestError(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw SSETestError(description: "connect: \(errno)")
        }
        var request = "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in extra { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        // Loopback: a small request fits the send buffer in one blocking call.
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            Glibc.close(fd)
            throw SSETestError(description: "send: \(errno)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Reads the status line and header fields.
    func readHead(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let end = find([13, 10, 13, 10]) {
                let head = String(decoding: buffer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
                buffer.removeFirst(end + 4)
                status = Int(head[0].split(separator: " ").dropFirst().first ?? "") ?? 0
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                        in: .whitespaces)
                }
                return
            }
            guard try await fill(until: deadline) else { throw SSETestError(description: "no response head") }
        }
    }

    /// The body read so far and up to the end, once the server has closed (for problem responses).
    func readToEnd(timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while try await fill(until: deadline) {}
        return String(decoding: buffer, as: UTF8.self)
    }

    /// The next complete message; nil when the stream ended first.
    func nextMessage(timeout: Duration = .seconds(60)) async throws -> SSEMessage? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let end = find([10, 10]) {
                let block = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                return Self.parse(block)
            }
            guard try await fill(until: deadline) else { return nil }
        }
    }

    /// `change` messages until `count` of them arrived; other messages are skipped.
    func changes(_ count: Int, timeout: Duration = .seconds(60)) async throws -> [SSEMessage] {
        var found: [SSEMessage] = []
        let deadline = ContinuousClock.now + timeout
        while found.count < count {
            guard let message = try await nextMessage(timeout: deadline - ContinuousClock.now) else { break }
            if message.event == "change" { found.append(message) }
        }
        return found
    }

    private static func parse(_ block: String) -> SSEMessage {
        var message = SSEMessage()
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") {
                message.comment = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
                continue
            }
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            var value = parts.count > 1 ? String(parts[1]) : ""
            if value.hasPrefix(" ") { value.removeFirst() }
            switch parts[0] {
            case "id": message.id = value
            case "event": message.event = value
            case "data": message.data = message.data.map { $0 + "\n" + value } ?? value
            case "retry": message.retry = value
            default: break
            }
        }
        return message
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for start in 0...(buffer.count - needle.count) where buffer[start..<start + needle.count].elementsEqual(needle)
        {
            return start
        }
        return nil
    }

    /// Appends what has arrived; false on end of stream or at the deadline.
    private func fill(until deadline: ContinuousClock.Instant) async throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer += chunk[..<count]
                return true
            }
            if count == 0 { return false }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw SSETestError(description: "recv: \(errno)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
