// Scenario 10 of the fault suite: an SSE consumer of `serve` that stops
// reading. The server must hold back (the socket's buffers fill, the
// connection waits), not buffer the stream in memory, and the pipeline must
// keep storing at its own pace: the stalled consumer neither grows the
// service's memory nor slows the stream.

import CDC
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct SlowConsumerTests {
        @Test(.timeLimit(.minutes(6)))
        func aStalledSSEConsumerNeitherGrowsMemoryNorSlowsTheStream() async throws {
            let served = try await StreamingServe.start()
            defer { served.stop() }
            let (harness, api, pipeline) = (served.harness, served.api, served.pipeline)

            // The consumer asks for the stream, then never reads again.
            let stalled = try api.open("GET", "/v1/pipelines/\(pipeline)/events/stream?after=0")
            defer { close(stalled) }

            // 20,000 rows of 1 kB: several times what the socket buffers hold.
            try harness.execute("INSERT INTO big SELECT g, repeat('x', 1000) FROM generate_series(1, 20000) g")
            try await waitUntil("the first 20,000 events stored") { try served.stored() >= 20_000 }
            let baseline = try served.residentKiB()

            // Ten times as much again, the consumer still stalled.
            for batch in 1...10 {
                try harness.execute(
                    "INSERT INTO big SELECT g, repeat('y', 1000) FROM generate_series(\(batch * 20_000 + 1), \((batch + 1) * 20_000)) g"
                )
            }
            try await waitUntil("every event stored while the consumer is stalled") { try served.stored() >= 220_000 }
            let after = try served.residentKiB()
            print(
                "serve resident memory: \(baseline / 1024) MiB after 20,000 events, \(after / 1024) MiB after 220,000 (about 230 MB of events) with a stalled SSE consumer"
            )
            // Buffering the stream for the stalled consumer would take about 200 MiB more.
            #expect(after - baseline < 64 * 1024, "serve grew by \((after - baseline) / 1024) MiB")
            #expect(served.serve.isRunning)

            // The stalled stream was a live one: its unread bytes are the stream's start.
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = recv(stalled, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            let head = String(decoding: buffer[..<max(0, count)], as: UTF8.self)
            #expect(head.hasPrefix("HTTP/1.1 200"), "\(head.prefix(300))")
            #expect(head.contains("event: change"))
        }

        /// A consumer that reads, but slowly (about 2 MB/s against a stream
        /// the pipeline fills far faster): serve holds back rather than
        /// buffering, and the consumer still gets every event exactly once.
        @Test(.timeLimit(.minutes(6)))
        func aSlowSSEConsumerGetsEverythingOnceWhileMemoryStaysBounded() async throws {
            let served = try await StreamingServe.start()
            defer { served.stop() }
            let (harness, api, pipeline) = (served.harness, served.api, served.pipeline)
            let baseline = try served.residentKiB()

            // The consumer reads 16 kB, then rests 8 ms, on a thread of its own.
            let consumer = try api.open("GET", "/v1/pipelines/\(pipeline)/events/stream?after=0")
            defer { close(consumer) }
            var wait = timeval(tv_sec: 1, tv_usec: 0)
            setsockopt(consumer, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            let ids = LockedValue<[String]>([])
            let stop = LockedValue(false)
            let reader = Thread {
                var pending: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 16_384)
                while !stop.withLock({ $0 }) {
                    let count = recv(consumer, &buffer, buffer.count, 0)
                    if count == 0 { break }
                    if count < 0 { continue }
                    pending += buffer[..<count]
                    var lines: [String] = []
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = pending[..<newline]
                        if line.starts(with: Array("id: ".utf8)) {
                            lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
                        }
                        pending.removeSubrange(...newline)
                    }
                    ids.withLock { $0 += lines }
                    usleep(8_000)
                }
            }
            reader.start()
            defer { stop.withLock { $0 = true } }

            // 40,000 rows of 1 kB: about 50 MB of events, stored long before the consumer has read them.
            for batch in 0..<4 {
                try harness.execute(
                    "INSERT INTO big SELECT g, repeat('x', 1000) FROM generate_series(\(batch * 10_000 + 1), \((batch + 1) * 10_000)) g"
                )
            }
            var peak = baseline
            var stored = 0
            try await waitUntil("every event stored") {
                peak = max(peak, try served.residentKiB())
                stored = try served.stored()
                return stored >= 40_000
            }
            let readWhenStored = ids.withLock { $0.count }
            try await waitUntil("the slow consumer has read every event") {
                peak = max(peak, try served.residentKiB())
                return ids.withLock { $0.count } >= stored
            }
            let seen = ids.withLock { $0 }
            print(
                "slow SSE consumer: \(readWhenStored) of \(stored) events read when all were stored; serve resident memory \(baseline / 1024) MiB before, peak \(peak / 1024) MiB"
            )
            #expect(readWhenStored < stored, "the consumer was not slower than the stream")
            #expect(seen.count == stored, "\(seen.count) ids read for \(stored) events stored")
            #expect(Set(seen).count == seen.count, "an event was sent twice")
            let sequences = seen.compactMap { $0.split(separator: ":").last.flatMap { Int($0) } }
            #expect(sequences == Array(1...stored), "events out of order or missing")
            // Buffering the stream for the consumer would take about 50 MiB more.
            #expect(peak - baseline < 32 * 1024, "serve grew by \((peak - baseline) / 1024) MiB")
        }
    }
}

/// A `serve` process whose pipeline streams table `big` of a fresh database
/// (no snapshot), created and started through the API.
final class StreamingServe {
    let harness: CaptureHarness
    let serve: PopsinkProcess
    /// Pipeline ids name slots, which are cluster-wide: one per test.
    let pipeline: String
    private(set) var api = LoopbackHTTP(port: 0)

    private init(harness: CaptureHarness, serve: PopsinkProcess) {
        self.harness = harness
        self.serve = serve
        pipeline = "s\(harness.database)"
    }

    static func start() async throws -> StreamingServe {
        let harness = try await CaptureHarness(
            setup: """
                CREATE TABLE big (id int PRIMARY KEY, pad text NOT NULL);
                ALTER TABLE big REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE big;
                """)
        let served: StreamingServe
        do {
            served = StreamingServe(
                harness: harness,
                serve: try PopsinkProcess.start(
                    ["serve", "--listen", "127.0.0.1:0", "--data-dir", harness.dataDirectory.path + "/serve"],
                    environment: ["POPSINK_API_TOKEN": nil]))
        } catch {
            harness.cleanUp()
            throw error
        }
        do {
            try await served.startPipeline()
        } catch {
            served.stop()
            throw error
        }
        return served
    }

    private func startPipeline() async throws {
        var port = 0
        try await waitUntil("serve listens") {
            guard serve.isRunning else { throw TestPostgresError("serve exited: \(serve.output())") }
            guard let range = serve.output().range(of: "listening on http://127.0.0.1:") else { return false }
            port = Int(serve.output()[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port > 0
        }
        api = LoopbackHTTP(port: port)
        let source = try api.json(
            "POST", "/v1/sources",
            #"{"name":"slow","host":"127.0.0.1","port":\#(harness.postgres.port),"database":"\#(harness.database)","user":"postgres","sslmode":"disable"}"#
        )
        let sourceID = try #require(source["id"] as? String, "\(source)")
        _ = try api.json(
            "PUT", "/v1/pipelines/\(pipeline)",
            #"{"source_id":"\#(sourceID)","publication":"popsink","snapshot":{"enabled":false}}"#)
        _ = try api.json("POST", "/v1/pipelines/\(pipeline)/start", "")
        try await waitUntil("streaming") {
            try api.json("GET", "/v1/pipelines/\(pipeline)/status")["state"] as? String == "streaming"
        }
    }

    /// The pipeline's `events_stored`, -1 when the status has none.
    func stored() throws -> Int {
        intValue(try api.json("GET", "/v1/pipelines/\(pipeline)/status")["events_stored"]) ?? -1
    }

    func residentKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(serve.process.processIdentifier)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }

    /// Stops serve (SIGTERM, then SIGKILL after 60 s), drops the pipeline's slot and the test database.
    func stop() {
        kill(serve.process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(60)
        while serve.isRunning && Date() < deadline { usleep(50_000) }
        if serve.isRunning { serve.kill() }
        _ = try? harness.execute(
            "SELECT pg_drop_replication_slot('popsink_\(pipeline)') FROM pg_replication_slots WHERE slot_name = 'popsink_\(pipeline)' AND NOT active"
        )
        harness.cleanUp()
    }
}

/// Plain HTTP/1.1 requests to a local `serve` (no token), one connection each.
struct LoopbackHTTP {
    let port: Int

    /// Sends a request and returns the connected socket without reading the answer.
    func open(_ method: String, _ path: String, body: String? = nil) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(descriptor)
            throw TestPostgresError("cannot connect to serve on port \(port): errno \(errno)")
        }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let body {
            request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            request += "\r\n"
        }
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            close(descriptor)
            throw TestPostgresError("could not send the request to serve")
        }
        return descriptor
    }

    /// A request whose answer is a JSON object (or empty); throws on a status of 400 or more.
    func json(_ method: String, _ path: String, _ body: String? = nil) throws -> [String: Any] {
        let descriptor = try open(method, path, body: body)
        defer { close(descriptor) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            response += buffer[..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestPostgresError("no HTTP answer: \(text)") }
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        guard status < 400 else { throw TestPostgresError("\(method) \(path): \(text)") }
        let payload = text[split.upperBound...]
        guard !payload.isEmpty else { return [:] }
        return (try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]) ?? [:]
    }
}
