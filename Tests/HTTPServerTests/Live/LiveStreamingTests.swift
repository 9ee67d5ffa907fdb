// Streamed responses (Server-Sent Events): delivered as they are written, with
// backpressure, and a writer that fails once the client is gone.
import HTTPServer
import Testing

@Suite("Live: streaming responses")
struct LiveStreamingTests {
    @Test func eventsArriveIncrementally() async throws {
        let gate = Shared(false)
        let handler: HTTPHandler = { request in
            guard request.path == "/events" else { return .text("plain") }
            return .eventStream { writer in
                try await writer.write("data: 1\n\n")
                // The second event waits until the test has seen the first.
                while !gate.current { try await Task.sleep(for: .milliseconds(2)) }
                try await writer.write("data: 2\n\n")
            }
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(rawRequest("GET", "/events"))
            let head = try await client.readHead()
            #expect(head.status == 200)
            #expect(head.headers["Content-Type"] == "text/event-stream")
            #expect(head.headers["Transfer-Encoding"] == "chunked")
            #expect(head.headers["Content-Length"] == nil)
            #expect(try await client.readChunk().map { String(decoding: $0, as: UTF8.self) } == "data: 1\n\n")
            gate.update { $0 = true }
            #expect(try await client.readChunk().map { String(decoding: $0, as: UTF8.self) } == "data: 2\n\n")
            #expect(try await client.readChunk() == nil)
            // The connection stays usable after the stream ends.
            try await client.send(rawRequest("GET", "/"))
            #expect(try await client.readResponse().text == "plain")
        }
    }

    @Test(arguments: [false, true])
    func writerThrowsOnceTheClientIsGone(reset: Bool) async throws {
        let failure = Shared<(any Error)?>(nil)
        let handler: HTTPHandler = { _ in
            .eventStream { writer in
                do {
                    while true {
                        try await writer.write("data: tick\n\n")
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                } catch {
                    failure.update { $0 = error }
                    throw error
                }
            }
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(rawRequest("GET", "/events"))
            _ = try await client.readHead()
            _ = try await client.readChunk()
            if reset { client.reset() } else { client.close() }
            #expect(await eventually { failure.current != nil })
            #expect(failure.current as? HTTPBodyWriterError == .clientDisconnected)
        }
    }

    @Test func writeSuspendsUntilTheClientReads() async throws {
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
        let total = 512  // 32 MiB: far more than the socket buffers hold
        let written = Shared(0)
        let handler: HTTPHandler = { _ in
            HTTPResponse(
                status: 200,
                body: .stream { writer in
                    for _ in 0..<total {
                        try await writer.write(chunk)
                        written.update { $0 += 1 }
                    }
                })
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port, receiveBuffer: 16 * 1024)
            try await client.send(rawRequest("GET", "/download"))
            _ = try await client.readHead()
            // The client does not read: once the socket buffers are full the writer must
            // stay suspended, not queue all 32 MiB in memory.
            var previous = -1
            var stalled = written.current
            var samples = 0
            while stalled != previous, samples < 50 {
                previous = stalled
                try await Task.sleep(for: .milliseconds(100))
                stalled = written.current
                samples += 1
            }
            #expect(stalled == previous, "the writer never stopped")
            #expect(stalled < total / 4)
            var received = 0
            while let data = try await client.readChunk() { received += data.count }
            #expect(received == total * chunk.count)
            #expect(written.current == total)
        }
    }

    @Test func http10StreamIsCloseDelimited() async throws {
        let handler: HTTPHandler = { _ in
            .eventStream { writer in
                try await writer.write("a")
                try await writer.write("b")
            }
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send("GET /events HTTP/1.0\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.headers["Transfer-Encoding"] == nil)
            #expect(response.headers["Connection"] == "close")
            #expect(response.text == "ab")
        }
    }

    @Test func headDoesNotRunTheStream() async throws {
        let ran = Shared(false)
        let handler: HTTPHandler = { _ in
            .eventStream { writer in
                ran.update { $0 = true }
                try await writer.write("never")
            }
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(rawRequest("HEAD", "/events"))
            #expect(try await client.readResponse(head: true).status == 200)
            try await client.send(rawRequest("HEAD", "/events"))
            #expect(try await client.readResponse(head: true).status == 200)
            #expect(!ran.current)
        }
    }

    @Test func failingStreamClosesWithoutTheLastChunk() async throws {
        struct Boom: Error {}
        let handler: HTTPHandler = { _ in
            .eventStream { writer in
                try await writer.write("partial")
                throw Boom()
            }
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(rawRequest("GET", "/events"))
            _ = try await client.readHead()
            #expect(try await client.readChunk() == Array("partial".utf8))
            await #expect(throws: TestClientError.self) { try await client.readChunk() }
        }
    }
}
