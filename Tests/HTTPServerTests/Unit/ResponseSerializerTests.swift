import Testing

// The bytes the server writes: status line, managed header fields, chunk framing.
@testable import HTTPServer

@Suite("Response serialization")
struct ResponseSerializerTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func headWithContentLengthDateAndServer() {
        let head = text(
            ResponseSerializer.head(
                status: 200, headers: ["Content-Type": "text/plain"], framing: .length(5), keepAlive: true,
                version: .http1_1, date: "Sun, 06 Nov 1994 08:49:37 GMT"
            )
        )
        #expect(
            head == "HTTP/1.1 200 OK\r\nServer: popsink-pg\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
        )
    }

    @Test func connectionFieldFollowsKeepAliveAndVersion() {
        let closing = text(
            ResponseSerializer.head(
                status: 404, headers: [:], framing: .length(0), keepAlive: false, version: .http1_1, date: "d"))
        #expect(closing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(closing.contains("Connection: close\r\n"))
        let http10 = text(
            ResponseSerializer.head(
                status: 200, headers: [:], framing: .length(0), keepAlive: true, version: .http1_0, date: "d"))
        #expect(http10.contains("Connection: keep-alive\r\n"))
        let http11 = text(
            ResponseSerializer.head(
                status: 200, headers: [:], framing: .length(0), keepAlive: true, version: .http1_1, date: "d"))
        #expect(!http11.contains("Connection"))
    }

    @Test func reservedAndUnsafeFieldsAreDropped() {
        let headers = HTTPHeaders([
            ("Content-Length", "999"), ("transfer-encoding", "gzip"), ("Connection", "upgrade"),
            ("X-Split", "a\r\nSet-Cookie: evil=1"), ("Bad Name", "v"), ("X-Nul", "a\u{0}b"), ("X-Good", "fine"),
            ("Server", "custom"),
        ])
        let head = text(
            ResponseSerializer.head(
                status: 200, headers: headers, framing: .chunked, keepAlive: true, version: .http1_1, date: "d"))
        #expect(!head.contains("999"))
        #expect(!head.contains("gzip"))
        #expect(!head.contains("upgrade"))
        #expect(!head.contains("evil"))
        #expect(!head.contains("Bad Name"))
        #expect(!head.contains("X-Nul"))
        #expect(head.contains("X-Good: fine\r\n"))
        #expect(head.contains("Server: custom\r\n") && !head.contains("popsink-pg"))
        #expect(head.contains("Transfer-Encoding: chunked\r\n"))
    }

    @Test func statusesWithoutContentGetNoLength() {
        let head = text(
            ResponseSerializer.head(
                status: 204, headers: [:], framing: .none, keepAlive: true, version: .http1_1, date: "d"))
        #expect(head.hasPrefix("HTTP/1.1 204 No Content\r\n"))
        #expect(!head.contains("Content-Length"))
        let unknown = text(
            ResponseSerializer.head(
                status: 299, headers: [:], framing: .none, keepAlive: true, version: .http1_1, date: "d"))
        #expect(unknown.hasPrefix("HTTP/1.1 299 \r\n"))
        let invalid = text(
            ResponseSerializer.head(
                status: 42, headers: [:], framing: .none, keepAlive: true, version: .http1_1, date: "d"))
        #expect(invalid.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
    }

    @Test func chunkFraming() {
        #expect(
            text(ResponseSerializer.chunk(Array(String(repeating: "x", count: 26).utf8))) == "1a\r\n"
                + String(repeating: "x", count: 26) + "\r\n")
        #expect(text(ResponseSerializer.lastChunk) == "0\r\n\r\n")
    }

    @Test func errorResponseIsProblemJSONAndCloses() {
        let response = text(ResponseSerializer.error(status: 431, detail: "Too many \"fields\"\n", date: "d"))
        #expect(response.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(response.contains("Content-Type: application/problem+json\r\n"))
        #expect(response.contains("Connection: close\r\n"))
        #expect(
            response.hasSuffix(
                "\r\n\r\n" + #"{"type":"about:blank","title":"Request Header Fields Too Large","status":431,"#
                    + #""detail":"Too many \"fields\"\n"}"#))
    }

    /// Every rule the parser enforces has its own detail, with the configured limit where there is one.
    @Test func parseErrorDetailsNameTheRuleAndTheLimit() {
        var limits = HTTPRequestParser.Limits()
        limits.maxBodyBytes = 1234
        #expect(HTTPParseError(.bodyTooLarge).detail(limits: limits).contains("1234-byte limit"))
        #expect(HTTPParseError(.bareCR).detail(limits: limits).contains("CRLF"))
        let control = ServerProblem.body(status: 400, detail: "a\u{01}b")
        #expect(String(decoding: control, as: UTF8.self).contains(#""detail":"a\u0001b""#))
    }

    /// RFC 9110 §5.6.7 IMF-fixdate.
    @Test func dateFormat() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func outputBufferSendsInOrderAcrossSegments() {
        var output = OutputBuffer()
        output.append(Array("head".utf8))
        output.append([UInt8](repeating: 1, count: 20_000))
        output.append(Array("tail".utf8))
        #expect(output.count == 20_008)
        var sent: [UInt8] = []
        while !output.isEmpty {
            output.sendFirst { bytes in
                let count = min(bytes.count, 3000)
                sent += bytes.prefix(count)
                return count
            }
        }
        #expect(sent == Array("head".utf8) + [UInt8](repeating: 1, count: 20_000) + Array("tail".utf8))
    }
}

@Suite("Headers")
struct HeadersTests {
    @Test func caseInsensitiveOrderedFields() {
        var headers: HTTPHeaders = ["Content-Type": "a"]
        headers.add("X-Multi", "1")
        headers.add("x-multi", "2")
        #expect(headers["CONTENT-TYPE"] == "a")
        #expect(headers.values("X-MULTI") == ["1", "2"])
        headers["X-Multi"] = "3"
        #expect(headers.values("x-multi") == ["3"])
        headers["content-type"] = nil
        #expect(!headers.contains("Content-Type"))
        #expect(headers.map(\.name) == ["X-Multi"])
    }

    @Test func tokenLists() {
        let headers = HTTPHeaders([("Connection", "Upgrade , KEEP-ALIVE"), ("Connection", "te")])
        #expect(headers.containsToken("keep-alive", in: "connection"))
        #expect(headers.containsToken("TE", in: "Connection"))
        #expect(!headers.containsToken("close", in: "Connection"))
    }
}
