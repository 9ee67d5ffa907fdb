// Where handlers run: on the event loop's own thread until they first suspend
// (no hop to the cooperative pool and back for an answer from memory), then
// wherever Swift resumes them, without holding up the loop meanwhile.
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
            #expect(moved.hasPrefix("popsink-http then "), "\(moved)")
            #expect(!moved.hasSuffix(" then popsink-http"), "\(moved)")
        }
    }
}
