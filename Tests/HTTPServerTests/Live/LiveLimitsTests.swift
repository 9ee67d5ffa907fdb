// Limits and timeouts on a live server: 408, idle close, 503 over maxConnections,
// 413, 414, 431 and `Expect: 100-continue`.
import HTTPServer
import Testing

@Suite("Live: limits and timeouts")
struct LiveLimitsTests {
    @Test func incompleteHeadTimesOutWith408() async throws {
        try await withServer({ $0.headerTimeout = .milliseconds(200) }) { port, _ in
            let start = ContinuousClock.now
            let partial = try TestClient.connect(port: port)
            try await partial.send("GET / HTTP/1.1\r\nHost: t\r\n")
            let response = try await partial.readResponse()
            expectProblem(response, status: 408, detail: "did not arrive within")
            #expect(response.headers["Connection"] == "close")
            #expect(ContinuousClock.now - start >= .milliseconds(190))
            #expect(try await partial.waitForClose())

            // A connection that never sends anything gets the same.
            let silent = try TestClient.connect(port: port)
            #expect(try await silent.readResponse().status == 408)
        }
    }

    /// The header timeout runs from the first byte of each request, not from the start of
    /// the connection nor from the previous response: a connection idle between requests
    /// for longer than the timeout still gets 200s (the idle timeout is long), and a head
    /// left unfinished later on gets its 408 no sooner than a whole timeout after it began.
    /// Only lower bounds on time are asserted, which a busy machine cannot break.
    @Test func headerTimeoutRestartsForEachRequest() async throws {
        let headerTimeout = Duration.seconds(1)
        let pause = headerTimeout + .milliseconds(200)
        try await withServer({ $0.headerTimeout = headerTimeout }) { port, _ in
            let client = try TestClient.connect(port: port)
            for index in 0..<2 {
                if index > 0 { try await Task.sleep(for: pause) }
                // Sent whole, so the head is complete the moment it arrives.
                try await client.send(rawRequest("GET", "/\(index)"))
                let response = try await client.readResponse()
                #expect(response.status == 200, "request \(index)")
            }
            try await Task.sleep(for: pause)
            let start = ContinuousClock.now
            try await client.send("GET /unfinished HTTP/1.1\r\nHost: t\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 408)
            #expect(ContinuousClock.now - start >= headerTimeout)
            #expect(try await client.waitForClose())
        }
    }

    @Test func stalledBodyUploadTimesOut() async throws {
        try await withServer({ $0.idleTimeout = .milliseconds(200) }) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            #expect(try await client.readResponse().status == 408)
            #expect(try await client.waitForClose())
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        try await withServer({ $0.keepAliveTimeout = .milliseconds(200) }) { port, _ in
            let client = try TestClient.connect(port: port)
            let start = ContinuousClock.now
            try await client.send(rawRequest())
            #expect(try await client.readResponse().status == 200)
            #expect(try await client.waitForClose())
            // The idle clock starts once the response is out, after `start`.
            #expect(ContinuousClock.now - start >= .milliseconds(190))
        }
    }

    /// `second` sits connected while `first` is served, so its header timeout must not be
    /// short (it runs from the accept; under load a short one answered it 408, not 200).
    @Test func connectionsOverTheLimitGet503() async throws {
        try await withServer({
            $0.maxConnections = 2
            $0.headerTimeout = .seconds(60)
        }) { port, _ in
            let first = try TestClient.connect(port: port)
            let second = try TestClient.connect(port: port)
            for client in [first, second] {
                try await client.send(rawRequest())
                let response = try await client.readResponse()
                #expect(response.status == 200)
            }
            let third = try TestClient.connect(port: port)
            try await third.send(rawRequest())
            let response = try await third.readResponse()
            expectProblem(response, status: 503, detail: "limit of 2 connections")
            #expect(response.headers["Connection"] == "close")
            #expect(try await third.waitForClose())

            // A slot frees up once a client leaves.
            first.close()
            let served = await eventuallyServed(port: port)
            #expect(served)
        }
    }

    /// Whether a new client gets 200 (not 503) before `testTimeout` passes: the slot
    /// frees once the loop has seen the departed client's FIN.
    private func eventuallyServed(port: Int) async -> Bool {
        let deadline = ContinuousClock.now + testTimeout
        while ContinuousClock.now < deadline {
            if let client = try? TestClient.connect(port: port) {
                try? await client.send(rawRequest())
                if (try? await client.readResponse())?.status == 200 { return true }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func bodyOverTheLimitGets413() async throws {
        try await withServer({ $0.maxBodyBytes = 1000 }) { port, _ in
            // Refused from the head: the body is never sent.
            let declared = try TestClient.connect(port: port)
            try await declared.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
            expectProblem(try await declared.readResponse(), status: 413, detail: "over the 1000-byte limit")
            #expect(try await declared.waitForClose())

            // Refused once a chunked body passes the limit, while the client keeps sending.
            let chunked = try TestClient.connect(port: port)
            try await chunked.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            try await chunked.send("200\r\n" + String(repeating: "a", count: 512) + "\r\n")
            try await chunked.send("200\r\n" + String(repeating: "a", count: 512) + "\r\n")
            expectProblem(try await chunked.readResponse(), status: 413, detail: "over the 1000-byte limit")
            #expect(try await chunked.waitForClose())

            let fits = try TestClient.connect(port: port)
            try await fits.send(rawRequest("POST", "/", body: String(repeating: "b", count: 1000)))
            #expect(try await fits.readResponse().status == 200)
        }
    }

    @Test func oversizedHeadGets414And431() async throws {
        try await withServer { port, _ in
            let longLine = try TestClient.connect(port: port)
            try await longLine.send("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: t\r\n\r\n")
            let tooLong = try await longLine.readResponse()
            expectProblem(tooLong, status: 414, detail: "longer than 8192 bytes")
            #expect(tooLong.headers["Connection"] == "close")
            #expect(try await longLine.waitForClose())

            let manyFields = try TestClient.connect(port: port)
            try await manyFields.send(
                rawRequest("GET", "/", headers: [("Host", "t")] + (0..<101).map { ("X-\($0)", "v") }))
            expectProblem(try await manyFields.readResponse(), status: 431, detail: "more than 100 header fields")
            #expect(try await manyFields.waitForClose())
        }
    }

    @Test func expectContinue() async throws {
        let handler: HTTPHandler = { request in .text(String(decoding: request.body, as: UTF8.self)) }
        try await withServer({ $0.maxBodyBytes = 1000 }, handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(
                "POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            // The interim response comes before any body byte is sent.
            #expect(try await client.readResponse().status == 100)
            try await client.send("hello")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello")

            // Too large: 413 instead of 100, and the connection closes.
            let big = try TestClient.connect(port: port)
            try await big.send(
                "POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
            #expect(try await big.readResponse().status == 413)
            #expect(try await big.waitForClose())

            let unknown = try TestClient.connect(port: port)
            try await unknown.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: tea\r\nContent-Length: 1\r\n\r\n")
            #expect(try await unknown.readResponse().status == 417)
        }
    }
}
