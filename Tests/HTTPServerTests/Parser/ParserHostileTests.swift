import Testing

// Malformed and hostile requests: one test per rule the parser enforces, each
// checked whole and byte by byte. These are the RFC 9112 §6.3 / §11.2 rules that
// keep a proxy in front and this server from disagreeing on message boundaries.
@testable import HTTPServer

@Suite("Parser: hostile input")
struct ParserHostileTests {
    private func withHeaders(_ lines: String, version: String = "HTTP/1.1", body: String = "") -> String {
        "POST / \(version)\r\n\(version == "HTTP/1.1" ? "Host: t\r\n" : "")\(lines)\r\n\(body)"
    }

    // MARK: - Message body length (RFC 9112 §6.3)

    @Test func contentLengthAndTransferEncodingTogether() {
        expectRejected(
            withHeaders("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"), .contentLengthWithTransferEncoding,
            status: 400)
        expectRejected(
            withHeaders("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"), .contentLengthWithTransferEncoding,
            status: 400)
    }

    @Test(arguments: [
        "Content-Length: 3\r\nContent-Length: 3\r\n", "Content-Length: 3\r\nContent-Length: 4\r\n",
        "content-length: 1\r\nContent-Length: 1\r\n",
    ])
    func duplicateContentLength(_ lines: String) {
        expectRejected(withHeaders(lines), .multipleContentLengths, status: 400)
    }

    @Test(arguments: [
        "abc", "+5", "-5", "5 5", "3, 3", "0x10", "", "1.5", "99999999999999999999999", "9223372036854775808", "５",
    ])
    func invalidContentLength(_ value: String) {
        expectRejected(withHeaders("Content-Length: \(value)\r\n"), .invalidContentLength, status: 400)
    }

    @Test func contentLengthOverTheLimitIs413() {
        var limits = HTTPRequestParser.Limits()
        limits.maxBodyBytes = 100
        expectRejected(withHeaders("Content-Length: 101\r\n"), .bodyTooLarge, status: 413, limits: limits)
        // Rejected from the head alone: the body is never waited for.
        #expect(parse(withHeaders("Content-Length: 9223372036854775807\r\n")).error?.kind == .bodyTooLarge)
    }

    @Test(arguments: ["gzip", "chunked, gzip", "chunked, chunked", "identity", "chunked;x=1", "", ","])
    func transferEncodingWithoutFinalChunked(_ value: String) {
        expectRejected(withHeaders("Transfer-Encoding: \(value)\r\n"), .invalidTransferEncoding, status: 400)
    }

    @Test(arguments: ["gzip, chunked", "deflate,chunked"])
    func unknownTransferCodingIs501(_ value: String) {
        expectRejected(withHeaders("Transfer-Encoding: \(value)\r\n"), .unsupportedTransferCoding, status: 501)
        // The same codings spread over two field lines.
        let split = value.split(separator: ",").map { "Transfer-Encoding: \($0)\r\n" }.joined()
        expectRejected(withHeaders(split), .unsupportedTransferCoding, status: 501)
    }

    @Test func transferEncodingInHTTP10() {
        expectRejected(
            withHeaders("Transfer-Encoding: chunked\r\n", version: "HTTP/1.0"), .transferEncodingInHTTP10, status: 400)
    }

    // MARK: - Field lines (RFC 9112 §5, RFC 9110 §5)

    @Test func obsFold() {
        expectRejected("GET / HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n", .obsFold, status: 400)
        expectRejected("GET / HTTP/1.1\r\nHost: t\r\nX-A: one\r\n\ttwo\r\n\r\n", .obsFold)
        // RFC 9112 §2.2: whitespace between the request-line and the first field.
        expectRejected("GET / HTTP/1.1\r\n Host: t\r\n\r\n", .obsFold)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n", "GET /\r HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET / HTTP/1.1\r\nHo\rst: t\r\n\r\n", "GET / HTTP/1.1\r\nHost: t\r\n\r\r\n",
    ])
    func bareCR(_ text: String) {
        expectRejected(text, .bareCR, status: 400)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\nHost: t\r\n\r\n", "GET / HTTP/1.1\r\nHost: t\n\r\n", "GET / HTTP/1.1\r\nHost: t\r\n\n",
    ])
    func bareLF(_ text: String) {
        expectRejected(text, .bareLF, status: 400)
    }

    @Test(arguments: ["\u{0}", "\u{1}", "\u{1b}", "\u{7f}", "\u{b}", "\u{c}"])
    func controlCharacterInFieldValue(_ control: String) {
        expectRejected("GET / HTTP/1.1\r\nHost: t\r\nX-A: a\(control)b\r\n\r\n", .invalidFieldValue, status: 400)
    }

    @Test(arguments: ["Host : t", "Host\t: t", "X-A  : v"])
    func whitespaceBetweenNameAndColon(_ line: String) {
        expectRejected("GET / HTTP/1.1\r\n\(line)\r\n\r\n", .whitespaceBeforeColon, status: 400)
    }

    @Test(arguments: [": empty name", "No colon here", "Bad(name): v", "Ba\"d: v", "Bäd: v"])
    func invalidFieldName(_ line: String) {
        expectRejected("GET / HTTP/1.1\r\nHost: t\r\n\(line)\r\n\r\n", .invalidFieldName, status: 400)
    }

    // MARK: - Request-line (RFC 9112 §3)

    @Test(arguments: ["G(T / HTTP/1.1", "GE\"T / HTTP/1.1", " / HTTP/1.1", "GÉT / HTTP/1.1"])
    func invalidMethod(_ line: String) {
        expectRejected("\(line)\r\nHost: t\r\n\r\n", .invalidMethod, status: 400)
    }

    @Test(arguments: ["GET", "GET /", "GET/ HTTP/1.1"])
    func requestLineWithoutThreeParts(_ line: String) {
        expectRejected("\(line)\r\nHost: t\r\n\r\n", .invalidRequestLine, status: 400)
    }

    @Test(arguments: [
        "GET  / HTTP/1.1", "GET a/b HTTP/1.1", "GET /a%zz HTTP/1.1", "GET /a%2 HTTP/1.1", "GET /a#frag HTTP/1.1",
        "GET * HTTP/1.1", "GET /caf\u{e9} HTTP/1.1", "GET /a\u{1}b HTTP/1.1", "CONNECT example.com:443 HTTP/1.1",
        "GET http:// HTTP/1.1", "GET ftp://x/ HTTP/1.1",
    ])
    func invalidTarget(_ line: String) {
        expectRejected("\(line)\r\nHost: t\r\n\r\n", .invalidTarget, status: 400)
    }

    @Test(arguments: [
        "HTTP/1", "http/1.1", "HTTP/11.1", "HTTP/1.1 ", "HTTP/1.x", "HTTPS/1.1", "HTTP/1.1.1", "HTTP/ 1.1",
    ])
    func invalidVersion(_ version: String) {
        expectRejected("GET / \(version)\r\nHost: t\r\n\r\n", .invalidVersion, status: 400)
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9"])
    func unsupportedVersionIs505(_ version: String) {
        expectRejected("GET / \(version)\r\nHost: t\r\n\r\n", .unsupportedVersion, status: 505)
    }

    // MARK: - Host (RFC 9112 §3.2)

    @Test func missingHostInHTTP11() {
        expectRejected("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", .missingHost, status: 400)
    }

    @Test func multipleHosts() {
        expectRejected("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", .multipleHosts, status: 400)
    }

    @Test(arguments: ["a b", "a/b", "a@b", "a\\b", "a\"b"])
    func invalidHost(_ host: String) {
        expectRejected("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n", .invalidHost, status: 400)
    }

    // MARK: - Chunked coding (RFC 9112 §7.1)

    private func chunked(_ body: String) -> String {
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\(body)"
    }

    @Test(arguments: [
        "zz\r\n", "\r\n", ";ext\r\n", "5 \r\nhello\r\n", "-5\r\n", "0x5\r\n", "5;\r\n", "5;=v\r\n", "5;a=\r\n",
        "5;a=\"open\r\n", "5;a=b c\r\n", "5;a=\"bad\u{1}\"\r\n", "5,x\r\n",
    ])
    func invalidChunkLine(_ line: String) {
        expectRejected(chunked(line), .invalidChunkLine, status: 400)
    }

    @Test func chunkLineTooLong() {
        expectRejected(chunked("5;" + String(repeating: "a", count: 5000) + "\r\n"), .invalidChunkLine)
    }

    @Test(arguments: ["5\r\nhelloX\r\n", "5\r\nhello\n", "5\r\nhello\r\r\n", "5\r\nhello0\r\n\r\n"])
    func chunkDataWithoutCRLF(_ body: String) {
        expectRejected(chunked(body), .invalidChunkTerminator, status: 400)
    }

    @Test func chunkSizeOverflowAndTotalOverTheLimit() {
        expectRejected(chunked("ffffffffffffffffffffffff\r\n"), .bodyTooLarge, status: 413)
        var limits = HTTPRequestParser.Limits()
        limits.maxBodyBytes = 8
        expectRejected(chunked("5\r\nhello\r\n4\r\n"), .bodyTooLarge, status: 413, limits: limits)
    }

    @Test func trailerFieldsFollowTheFieldRules() {
        expectRejected(chunked("0\r\nX: a\r\n folded\r\n\r\n"), .obsFold)
        expectRejected(chunked("0\r\nX : a\r\n\r\n"), .whitespaceBeforeColon)
        expectRejected(chunked("0\r\nX: a\u{1}\r\n\r\n"), .invalidFieldValue)
        var limits = HTTPRequestParser.Limits()
        limits.maxHeaderBytes = 64
        expectRejected(
            chunked("0\r\nX: " + String(repeating: "a", count: 100) + "\r\n\r\n"), .headerSectionTooLarge, status: 431,
            limits: limits)
    }

    // MARK: - Expect (RFC 9110 §10.1.1)

    @Test func unsupportedExpectationIs417() {
        expectRejected(withHeaders("Expect: 200-ok\r\nContent-Length: 1\r\n"), .unsupportedExpectation, status: 417)
    }

    // MARK: - Errors stick

    @Test func failedParserKeepsFailing() {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/1.1\r\nHost : t\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.append(Array(rawRequest().utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test func errorCarriesTheOffendingBytes() {
        let error = parse("GET / HTTP/1.1\r\nHost: t\r\nX-Evil : 1\r\n\r\n").error
        #expect(error?.bytes == Array("X-Evil : 1".utf8))
    }
}
