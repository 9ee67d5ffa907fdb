import Testing

// Size limits with their statuses: 414 for the request-line, 431 for the header
// section and field count, 413 for the body — detected as soon as the limit is
// passed, even when the line never ends.
@testable import HTTPServer

@Suite("Parser: limits")
struct ParserLimitTests {
    @Test func requestLineOver8KiBIs414() {
        let target = "/" + String(repeating: "a", count: 8 * 1024)
        expectRejected("GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n", .requestLineTooLong, status: 414)
        // Without a line end: still refused once the limit is passed.
        let outcome = parse("GET \(target)")
        #expect(outcome.error?.status == 414)
    }

    @Test func emptyLinesBeforeTheRequestLineCountTowardsItsLimit() {
        var limits = HTTPRequestParser.Limits()
        limits.maxRequestLine = 32
        expectRejected(
            String(repeating: "\r\n", count: 17) + "GET / HTTP/1.1\r\nHost: t\r\n\r\n", .requestLineTooLong,
            limits: limits)
    }

    @Test func headerSectionOver32KiBIs431() {
        let big = String(repeating: "b", count: 1000)
        let fields = (0..<40).map { "X-\($0): \(big)\r\n" }.joined()
        expectRejected("GET / HTTP/1.1\r\nHost: t\r\n\(fields)\r\n", .headerSectionTooLarge, status: 431)
        // One endless field line.
        #expect(
            parse("GET / HTTP/1.1\r\nHost: t\r\nX: " + String(repeating: "c", count: 33 * 1024)).error?.status == 431)
    }

    @Test func moreThan100FieldsIs431() {
        let fields = (0..<100).map { "X-\($0): v\r\n" }.joined()
        expectRejected("GET / HTTP/1.1\r\nHost: t\r\n\(fields)\r\n", .tooManyFields, status: 431)
        let exactly100 = (0..<99).map { "X-\($0): v\r\n" }.joined()
        #expect(parse("GET / HTTP/1.1\r\nHost: t\r\n\(exactly100)\r\n").requests.count == 1)
    }

    @Test func bodyOver1MiBIs413() {
        expectRejected(
            rawRequest("POST", "/", headers: [("Host", "t"), ("Content-Length", "\(1024 * 1024 + 1)")]), .bodyTooLarge,
            status: 413)
        #expect(
            parse(rawRequest("POST", "/", headers: [("Host", "t"), ("Content-Length", "\(1024 * 1024)")])).error == nil)
    }
}
