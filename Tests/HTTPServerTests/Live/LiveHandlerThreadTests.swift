// Where handlers run: on the event loop's own thread until they first suspend
// (no hop to another thread and back for an answer from memory), then on the
// server's handler threads, without holding up the loop meanwhile, and still
// when every thread of Swift's cooperative pool is held by someone else.
import Dispatch
import Foundation
import Glibc
import HTTPServer
import Testing

@Suite("Live: handler threads")
struct LiveHandlerThreadTests {
    /// The name of the calling thread, as /proc shows it.
    private static func threadName() -> String {
        let fd = open("/proc/thread-self/comm", O_RDONLY)
        guard fd >= 0 else { return "?" }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return String(decoding: bytes.prefix(max(0, count)).filter { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    @Test func aHandlerStartsOnTheNamedLoopThreadAndMayMoveOnceItSuspends() async throws {
        let handler: HTTPHandler = { request in
            let before = Self.threadName()
            guard request.path == "/suspending" else { return .text(before) }
            try? await Task.sleep(for: .milliseconds(300))
            return .text("\(before) then \(Self.threadName())")
        }
        try await withServer(handler: handler) { port, _ in
            let slow = try TestClient.connect(port: port)
            try await slow.send(rawRequest("GET", "/suspending"))
            // While that one sleeps, the loop answers others.
            let quick = try TestClient.connect(port: port)
            for _ in 0..<3 {
                try await quick.send(rawRequest("GET", "/"))
                #expect(try await quick.readResponse().text == "popsink-http")
            }
            let moved = try await slow.readResponse().text
            #expect(moved == "popsink-http then popsink-handler", "\(moved)")
        }
    }

    /// Every cooperative thread is held by blocked tasks (what a synchronous test or a
    /// blocking call made by mistake does); a handler that suspends and calls an actor
    /// must still answer. On the pool it waited for as long as the pool was held.
    @Test(.timeLimit(.minutes(3)))
    func aHandlerAnswersWhileTheCooperativePoolIsHeld() async throws {
        let counter = Tally()
        let handler: HTTPHandler = { _ in
            try? await Task.sleep(for: .milliseconds(20))
            return .text("\(await counter.next()) on \(Self.threadName())")
        }
        try await withServer(handler: handler) { port, _ in
            let answer = await withCheckedContinuation { (done: CheckedContinuation<String, Never>) in
                let thread = Thread {
                    let gate = DispatchSemaphore(value: 0)
                    let holding = Shared(0)
                    let holders = 64
                    for _ in 0..<holders {
                        Task.detached {
                            holding.update { $0 += 1 }
                            gate.wait()
                        }
                    }
                    // Every pool thread is held once the count stops growing: the rest of the
                    // holders cannot start.
                    var seen = -1
                    while holding.current != seen {
                        seen = holding.current
                        usleep(300_000)
                    }
                    let answer = Self.blockingGet(port: port, path: "/", timeoutSeconds: 20)
                    for _ in 0..<holders { gate.signal() }
                    done.resume(returning: "\(answer) (pool held by \(seen) tasks)")
                }
                thread.start()
            }
            #expect(answer.hasPrefix("1 on popsink-handler"), "\(answer)")
        }
    }

    private actor Tally {
        private var count = 0
        func next() -> Int {
            count += 1
            return count
        }
    }

    /// A GET over HTTP/1.0 on the calling thread, without Swift concurrency: the body, or
    /// what went wrong.
    private static func blockingGet(port: Int, path: String, timeoutSeconds: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "socket failed" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return "connect failed" }
        let request = Array("GET \(path) HTTP/1.0\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return "send failed" }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count > 0 {
                response += chunk[..<count]
            } else if count == 0 {
                break
            } else {
                return "no answer within \(timeoutSeconds) s"
            }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let bodyStart = text.range(of: "\r\n\r\n") else { return "no head in \(text)" }
        return String(text[bodyStart.upperBound...])
    }
}
