// A webhook receiver on loopback for the tests: it checks each batch's
// signature, then answers as its behaviour says (accept, fail with 5xx or
// 4xx, stall past the client's timeout, reset the connection), and keeps
// what a careful receiver keeps: events whose id it has not seen yet.

import EventStore
import Foundation

@testable import Sinks

final class WebhookReceiver: @unchecked Sendable {
    enum Behaviour: Sendable {
        case accept
        case fail(Int)
        case stall, reset
    }

    let port: UInt16
    let secret: String
    private let listener: Int32
    private let lock = NSLock()
    private var choose: @Sendable () -> Behaviour
    private var accepted: [String] = []
    private var requests = 0
    private var badSignatures = 0
    private var stopped = false

    init(secret: String, choose: @escaping @Sendable () -> Behaviour) throws {
        self.secret = secret
        self.choose = choose
        let listener = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        port = UInt16(bigEndian: address.sin_port)
        guard bound, listen(listener, 16) == 0 else { throw TestFailure("cannot listen on loopback") }
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    var url: String { "http://127.0.0.1:\(port)/hooks/cdc" }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    func setBehaviour(_ choose: @escaping @Sendable () -> Behaviour) { lock.withLock { self.choose = choose } }

    /// Event ids kept, in the order they were kept.
    var events: [String] { lock.withLock { accepted } }
    var signatureFailures: Int { lock.withLock { badSignatures } }
    var requestCount: Int { lock.withLock { requests } }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            handle(connection)
        }
    }

    private func handle(_ connection: Int32) {
        defer { close(connection) }
        guard let (headers, body) = readRequest(connection) else { return }
        let behaviour = lock.withLock { () -> Behaviour in
            requests += 1
            return choose()
        }
        let timestamp = Int64(headers["popsink-timestamp"] ?? "") ?? -1
        let signature = headers["popsink-signature"] ?? ""
        guard signature == WebhookSignature.header(secret: secret, timestamp: timestamp, body: body) else {
            lock.withLock { badSignatures += 1 }
            respond(connection, 401)
            return
        }
        switch behaviour {
        case .accept:
            keep(body)
            respond(connection, 200)
        case .fail(let status):
            respond(connection, status)
        case .stall:
            Thread.sleep(forTimeInterval: 0.8)
        case .reset:
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
    }

    /// Keeps the events of a batch whose ids come after the last one kept (ids grow in store order).
    private func keep(_ body: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let events = object["events"] as? [[String: Any]]
        else { return }
        lock.withLock {
            for event in events {
                guard let id = event["id"] as? String, let parsed = EventID(id) else { continue }
                if let last = accepted.last.flatMap(EventID.init),
                    (parsed.commitLSN, parsed.ordinal) <= (last.commitLSN, last.ordinal)
                {
                    continue
                }
                accepted.append(id)
            }
        }
    }

    private func respond(_ connection: Int32, _ status: Int) {
        let text = "HTTP/1.1 \(status) Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        _ = Array(text.utf8).withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private func readRequest(_ connection: Int32) -> ([String: String], [UInt8])? {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headers: [String: String] = [:]
        var bodyStart: Int?
        var length = 0
        while true {
            if let start = bodyStart, buffer.count - start >= length {
                return (headers, Array(buffer[start..<start + length]))
            }
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<count])
            if bodyStart == nil, let range = buffer.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: buffer[..<range.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                        in: .whitespaces)
                }
                length = Int(headers["content-length"] ?? "0") ?? 0
                bodyStart = range.upperBound
            }
        }
    }
}
