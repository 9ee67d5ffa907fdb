import Testing

// Inputs that Fuzz/http-parser found to break a promise of the parser, kept as
// plain regression tests: the same bytes give the same outcome however they are split.
@testable import HTTPServer

@Suite("Parser: fuzzer findings")
struct ParserFuzzFindingsTests {
    /// A line over its limit that ends in a bare LF was `bareLF` (400) when it arrived
    /// whole and `requestLineTooLong` (414) when the LF came in a later piece.
    @Test func overlongLineWithBareLFIsTooLongHoweverSplit() {
        let line = "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\nHost: t\r\n\r\n"
        expectRejected(line, .requestLineTooLong, status: 414)
        let bytes = Array(line.utf8)
        for split in [1, 100, 8193, 8194, 9005, bytes.count - 3] {
            let outcome = parse(pieces: [bytes[..<split], bytes[split...]])
            #expect(outcome.error?.kind == .requestLineTooLong, "split at \(split)")
        }

        let field = "GET / HTTP/1.1\r\nX-Long: " + String(repeating: "b", count: 40_000) + "\n\r\n"
        expectRejected(field, .headerSectionTooLarge, status: 431)
    }
}
