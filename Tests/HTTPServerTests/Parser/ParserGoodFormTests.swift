import Testing

// Well-formed requests the parser must accept, fed whole, byte by byte and split
// at every offset.
@testable import HTTPServer

@Suite("Parser: good forms")
struct ParserGoodFormTests {
    @Test func simpleGet() throws {
        let outcome = parse("GET /v1/pipelines?limit=10 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        let request = try #require(outcome.requests.first)
        #expect(outcome.error == nil)
        #expect(request.method == "GET")
        #expect(request.target == "/v1/pipelines?limit=10")
        #expect(request.path == "/v1/pipelines")
        #expect(request.query == "limit=10")
        #expect(request.version == .http1_1)
        #expect(request.headers["host"] == "example.com")
        #expect(request.headers["ACCEPT"] == "*/*")
        #expect(request.body.isEmpty)
        #expect(request.wantsKeepAlive)
    }

    @Test func contentLengthBody() throws {
        let outcome = parse(rawRequest("POST", "/echo", body: "hello world"))
        #expect(outcome.error == nil)
        #expect(try #require(outcome.requests.first).body == Array("hello world".utf8))
    }

    @Test func pipelinedRequestsSplitAtEveryOffset() {
        let bytes = Array(
            (rawRequest("GET", "/one") + rawRequest("POST", "/two", body: "abc")
                + "PUT /three HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
                + rawRequest("DELETE", "/four", version: "HTTP/1.0", headers: [])).utf8
        )
        func check(_ outcome: ParseOutcome, _ label: String) {
            #expect(outcome.error == nil, "\(label)")
            #expect(outcome.requests.map(\.target) == ["/one", "/two", "/three", "/four"], "\(label)")
            #expect(
                outcome.requests.map { String(decoding: $0.body, as: UTF8.self) } == ["", "abc", "xyz", ""], "\(label)")
        }
        for offset in 0...bytes.count {
            check(parse(pieces: [bytes[..<offset], bytes[offset...]]), "split at \(offset)")
        }
        check(parse(bytes, pieceSize: 1), "byte by byte")
        check(parse(bytes, pieceSize: 7), "pieces of 7")
    }

    /// RFC 9112 §7.1: chunk extensions (token and quoted values, BWS) and a trailer section.
    @Test func chunkedBodyWithExtensionsAndTrailers() {
        let text =
            "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n"
            + "1 ; flag ; q=\"quoted \\\" str\"\r\n \r\n"
            + "00006\r\nworld!\r\n"
            + "0;last\r\nChecksum: abc\r\nX-Trailer: 1\r\n\r\n"
        let bytes = Array(text.utf8)
        for offset in 0...bytes.count {
            let outcome = parse(pieces: [bytes[..<offset], bytes[offset...]])
            #expect(outcome.error == nil, "split at \(offset)")
            #expect(outcome.requests.first?.body == Array("hello world!".utf8), "split at \(offset)")
            // Trailers are checked, then discarded.
            #expect(outcome.requests.first?.headers["Checksum"] == nil)
        }
    }

    @Test func transferEncodingIsCaseInsensitiveAndMayHaveEmptyListElements() {
        let outcome = parse("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: , Chunked\r\n\r\n0\r\n\r\n")
        #expect(outcome.error == nil)
        #expect(outcome.requests.count == 1)
    }

    /// RFC 9110 §10.1.1: the parser asks for `100 Continue` after the head, before the body.
    @Test func expectContinueBeforeBody() throws {
        let head = "POST /data HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
        var parser = HTTPRequestParser()
        parser.append(Array(head.utf8))
        guard case .expectContinue = try? parser.next() else {
            Issue.record("expected expectContinue")
            return
        }
        #expect(try parser.next() == nil)
        parser.append(Array("body".utf8))
        guard case .request(let request) = try? parser.next() else {
            Issue.record("expected the request")
            return
        }
        #expect(request.body == Array("body".utf8))
    }

    @Test func expectContinueSkippedWhenItCannotHelp() {
        // The body arrived with the head.
        #expect(parse("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nab").trace == "R")
        // No body at all.
        #expect(parse("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n").trace == "R")
        // HTTP/1.0 expectations are ignored.
        #expect(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nab").trace == "R")
        // Chunked bodies get it too, split or not.
        let chunked = "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parse(chunked).trace == "C")
        #expect(parse(chunked + "0\r\n\r\n", pieceSize: 1).trace == "CR")
    }

    /// RFC 9112 §2.2: empty lines before the request-line are ignored.
    @Test func leadingEmptyLines() {
        let outcome = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(outcome.error == nil)
        #expect(outcome.requests.count == 1)
    }

    @Test func http10() throws {
        let request = try #require(parse("GET / HTTP/1.0\r\n\r\n").requests.first)
        #expect(request.version == .http1_0)
        #expect(!request.wantsKeepAlive)
        let keepAlive = try #require(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").requests.first)
        #expect(keepAlive.wantsKeepAlive)
        let close = try #require(parse("GET / HTTP/1.1\r\nHost: t\r\nConnection: foo, close\r\n\r\n").requests.first)
        #expect(!close.wantsKeepAlive)
    }

    /// RFC 9110 §2.5: a later 1.x minor version is served with 1.1 semantics.
    @Test func laterMinorVersion() throws {
        let request = try #require(parse("GET / HTTP/1.7\r\nHost: t\r\n\r\n").requests.first)
        #expect(request.version == HTTPVersion(major: 1, minor: 7))
        #expect(request.wantsKeepAlive)
    }

    /// RFC 9112 §3.2: absolute-form and asterisk-form targets.
    @Test func otherTargetForms() throws {
        let absolute = try #require(
            parse("GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n").requests.first)
        #expect(absolute.path == "/a/b")
        #expect(absolute.query == "x=1")
        let bare = try #require(parse("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").requests.first)
        #expect(bare.path == "/")
        let options = try #require(parse("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n").requests.first)
        #expect(options.path == "*")
    }

    /// RFC 9110 §5.5: OWS around values is not part of them; HTAB and obs-text are allowed.
    @Test func fieldValues() throws {
        let text = "GET / HTTP/1.1\r\nHost: t\r\nX-A: \t padded value \t\r\nX-B:\r\nX-C: a\tb\r\nX-D: caf\u{e9}\r\n\r\n"
        let request = try #require(parse(text).requests.first)
        #expect(request.headers["x-a"] == "padded value")
        #expect(request.headers["x-b"] == "")
        #expect(request.headers["x-c"] == "a\tb")
        #expect(request.headers["x-d"] == "caf\u{e9}")
    }

    @Test func queryAndPathDecoding() {
        let request = HTTPRequest(method: "GET", target: "/a%20b/c?name=J%C3%BCrgen+X&flag&empty=&=skipped&bad=%zz")
        #expect(request.decodedPath == "/a b/c")
        #expect(request.queryItems.map(\.name) == ["name", "flag", "empty"])
        #expect(request.queryValue("name") == "Jürgen X")
        #expect(request.queryValue("flag") == "")
        #expect(request.queryValue("missing") == nil)
        #expect(HTTPRequest(method: "GET", target: "/%zz").decodedPath == nil)
    }

    @Test func bodyAtExactlyTheLimit() {
        var limits = HTTPRequestParser.Limits()
        limits.maxBodyBytes = 10
        #expect(parse(rawRequest("POST", "/", body: "0123456789"), limits: limits).requests.count == 1)
        let chunked =
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"
        #expect(parse(chunked, limits: limits).requests.first?.body.count == 10)
    }

    @Test func fieldsAtExactlyTheLimits() {
        var limits = HTTPRequestParser.Limits()
        limits.maxHeaderCount = 3
        limits.maxRequestLine = "GET /abc HTTP/1.1".utf8.count
        // Host + 2 more fields, each line "X-n: v\r\n".
        let text = "GET /abc HTTP/1.1\r\nHost: t\r\nX-1: v\r\nX-2: v\r\n\r\n"
        limits.maxHeaderBytes = "Host: t\r\nX-1: v\r\nX-2: v\r\n".utf8.count
        #expect(parse(text, limits: limits).requests.count == 1)
        #expect(parse(text, pieceSize: 1, limits: limits).requests.count == 1)
    }

    @Test func manyRequestsOnOneConnectionKeepTheBufferSmall() {
        var parser = HTTPRequestParser()
        let request = Array(rawRequest("POST", "/x", body: String(repeating: "a", count: 1000)).utf8)
        for _ in 0..<200 {
            parser.append(request)
            guard case .request = try? parser.next() else {
                Issue.record("expected a request")
                return
            }
        }
        #expect(parser.bufferedByteCount == 0)
        #expect(parser.isIdle)
    }
}
