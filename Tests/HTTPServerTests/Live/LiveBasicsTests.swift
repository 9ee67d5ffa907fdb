// A real server on 127.0.0.1 (and ::1), port 0, spoken to over raw sockets:
// keep-alive, pipelining, HEAD, HTTP/1.0, error responses, concurrency.
import Glibc
import HTTPServer
import Testing

@Suite("Live: basics")
struct LiveBasicsTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await withServer { port, _ in
            let client = try TestClient.connect(port: port)
            for path in ["/a", "/b", "/c"] {
                try await client.send(rawRequest("GET", path))
                let response = try await client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "GET \(path)")
                #expect(response.headers["Content-Length"] == "\(response.body.count)")
                #expect(response.headers["Server"] == "popsink-pg")
                #expect(response.headers["Date"]?.hasSuffix(" GMT") == true)
                #expect(response.headers["Connection"] == nil)
            }
        }
    }

    @Test func pipelinedResponsesComeBackInRequestOrder() async throws {
        let handler: HTTPHandler = { request in
            // The first request is the slowest: order must still hold.
            if request.path == "/slow" { try? await Task.sleep(for: .milliseconds(150)) }
            return .text(request.path)
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            let paths = ["/slow", "/fast-1", "/fast-2", "/fast-3"]
            try await client.send(
                paths.map { rawRequest("GET", $0) }.joined() + rawRequest("POST", "/with-body", body: "xyz"))
            for path in paths + ["/with-body"] {
                #expect(try await client.readResponse().text == path)
            }
        }
    }

    @Test func requestBodyAndRemoteAddressReachTheHandler() async throws {
        let handler: HTTPHandler = { request in
            .text("\(request.remoteAddress.hasPrefix("127.0.0.1:")) \(String(decoding: request.body, as: UTF8.self))")
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(rawRequest("POST", "/", body: "payload"))
            #expect(try await client.readResponse().text == "true payload")
            // Chunked upload.
            try await client.send(
                "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\npay\r\n4\r\nload\r\n0\r\nT: 1\r\n\r\n"
            )
            #expect(try await client.readResponse().text == "true payload")
        }
    }

    @Test func headResponseHasLengthButNoBody() async throws {
        try await withServer(handler: { _ in .text("hello") }) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(rawRequest("HEAD", "/"))
            let head = try await client.readResponse(head: true)
            #expect(head.status == 200)
            #expect(head.headers["Content-Length"] == "5")
            // Had a body been sent, it would be read as the next status line.
            try await client.send(rawRequest("GET", "/"))
            #expect(try await client.readResponse().text == "hello")
        }
    }

    @Test func http10ClosesUnlessKeepAlive() async throws {
        try await withServer { port, _ in
            let plain = try TestClient.connect(port: port)
            try await plain.send("GET /old HTTP/1.0\r\n\r\n")
            let response = try await plain.readResponse()
            #expect(response.text == "GET /old")
            #expect(response.headers["Connection"] == "close")
            #expect(try await plain.waitForClose())

            let keepAlive = try TestClient.connect(port: port)
            try await keepAlive.send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try await keepAlive.readResponse().headers["Connection"] == "keep-alive")
            try await keepAlive.send("GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try await keepAlive.readResponse().text == "GET /2")
        }
    }

    @Test func connectionCloseFromEitherSide() async throws {
        let handler: HTTPHandler = { request in
            request.path == "/bye"
                ? HTTPResponse(status: 200, headers: ["Connection": "close"], body: .bytes([])) : .text("ok")
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(rawRequest("GET", "/", headers: [("Host", "t"), ("Connection", "close")]))
            #expect(try await client.readResponse().headers["Connection"] == "close")
            #expect(try await client.waitForClose())

            let other = try TestClient.connect(port: port)
            try await other.send(rawRequest("GET", "/bye"))
            #expect(try await other.readResponse().headers["Connection"] == "close")
            #expect(try await other.waitForClose())
        }
    }

    /// Request smuggling attempt: answered 400 and the connection closed, so the
    /// smuggled request is never served.
    @Test func malformedRequestGets400AndClose() async throws {
        let served = Shared<[String]>([])
        let handler: HTTPHandler = { request in
            served.update { $0.append(request.path) }
            return .text("ok")
        }
        try await withServer(handler: handler) { port, _ in
            let client = try TestClient.connect(port: port)
            try await client.send(
                "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    + rawRequest("GET", "/smuggled")
            )
            let response = try await client.readResponse()
            expectProblem(response, status: 400, detail: "both Content-Length and Transfer-Encoding")
            #expect(response.headers["Connection"] == "close")
            #expect(try await client.waitForClose())
            #expect(served.current.isEmpty)

            let versions = try TestClient.connect(port: port)
            try await versions.send("GET / HTTP/2.0\r\nHost: t\r\n\r\n")
            expectProblem(try await versions.readResponse(), status: 505, detail: "send HTTP/1.1")
            #expect(try await versions.waitForClose())
        }
    }

    /// A client trickling its request in byte by byte must not hold up the loop: another
    /// client is served many times over while that request is still incomplete. The slow
    /// client holds back its final CRLF until the fast one is done, so the order holds
    /// however the two tasks get scheduled; a server that waited for the slow request
    /// would leave the fast client unanswered.
    /// The deadlines are far off: on a loaded machine the trickle itself can
    /// outlast the default 10 s for a request's head, and what is tested here
    /// is the loop, not the deadline (LiveLimitsTests has those).
    @Test func slowClientDoesNotStallOthers() async throws {
        try await withServer({
            $0.headerTimeout = .seconds(600)
            $0.requestTimeout = .seconds(600)
        }) { port, _ in
            let request = Array(rawRequest("GET", "/slow-client").utf8)
            let trickled = Shared(0)
            let fastDone = Shared(false)
            let slow = Task {
                let client = try TestClient.connect(port: port)
                for byte in request.dropLast(2) {
                    try await client.send([byte])
                    trickled.update { $0 += 1 }
                    try await Task.sleep(for: .milliseconds(10))
                }
                while !fastDone.current { try await Task.sleep(for: .milliseconds(2)) }
                try await client.send(Array(request.suffix(2)))
                return try await client.readResponse().text
            }
            defer { slow.cancel() }
            #expect(await eventually { trickled.current > 0 })
            let fast = try TestClient.connect(port: port)
            for index in 0..<20 {
                try await fast.send(rawRequest("GET", "/fast/\(index)"))
                #expect(try await fast.readResponse().text == "GET /fast/\(index)")
            }
            // All served while the slow request still lacked its final CRLF.
            fastDone.update { $0 = true }
            #expect(try await slow.value == "GET /slow-client")
        }
    }

    @Test func manyConcurrentClients() async throws {
        try await withServer { port, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let client = try TestClient.connect(port: port)
                        for round in 0..<5 {
                            try await client.send(rawRequest("GET", "/\(index)/\(round)"))
                            let text = try await client.readResponse().text
                            #expect(text == "GET /\(index)/\(round)")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func servesIPv6Loopback() async throws {
        try await withServer({ $0.host = "::1" }) { port, _ in
            let client = try TestClient.connect(port: port, host: "::1")
            try await client.send(rawRequest("GET", "/six"))
            #expect(try await client.readResponse().text == "GET /six")
        }
    }

    @Test func portInUseIsReported() async throws {
        try await withServer { port, _ in
            let second = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: port)) { _ in
                .status(204)
            }
            #expect {
                try second.start()
            } throws: { error in
                (error as? HTTPServerError)?.code == .addressInUse
            }
        }
    }

    @Test func startTwiceIsRefused() async throws {
        try await withServer { _, server in
            #expect(throws: HTTPServerError.self) { try server.start() }
            #expect(server.boundPort != nil)
        }
    }
}
