// What happens once the head is complete: Host checks (RFC 9112 §3.2), the message
// body length (RFC 9112 §6.3), the body limit and `Expect` (RFC 9110 §10.1.1).
// These are the rules that keep two parsers from disagreeing on where a request
// ends (request smuggling), so every ambiguity is an error.

extension HTTPRequestParser {
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
    }

    /// Moves to the body (or emits a bodiless request). Returns `expectContinue` when the
    /// client waits for `100 Continue` before sending the body.
    mutating func finishHead() throws(HTTPParseError) -> Event? {
        try checkHost()
        let framing = try framing()
        let wantsContinue = try expectsContinue()
        head.sectionBytes = 0
        head.fieldCount = 0
        switch framing {
        case .none, .length(0):
            return emitRequest()
        case .length(let count):
            state = .fixedBody(remaining: count)
        case .chunked:
            state = .chunkSize
        }
        // RFC 9110 §10.1.1: a server MAY omit 100 Continue if it already has some of the body.
        return wantsContinue && bufferedByteCount == 0 ? .expectContinue : nil
    }

    /// RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, for more than one Host,
    /// and for an invalid Host value.
    private func checkHost() throws(HTTPParseError) {
        let hosts = head.headers.values("Host")
        if hosts.count > 1 { throw HTTPParseError(.multipleHosts, Array(hosts.joined(separator: ", ").utf8)) }
        guard let host = hosts.first else {
            if head.version.isAtLeast1_1 { throw HTTPParseError(.missingHost) }
            return
        }
        guard host.utf8.allSatisfy(HTTPSyntax.isHostChar) else { throw HTTPParseError(.invalidHost, Array(host.utf8)) }
    }

    /// RFC 9112 §6.3, for requests.
    func framing() throws(HTTPParseError) -> Framing {
        let transferEncodings = head.headers.values("Transfer-Encoding")
        let contentLengths = head.headers.values("Content-Length")
        if !transferEncodings.isEmpty {
            let text = Array(transferEncodings.joined(separator: ", ").utf8)
            // §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            guard head.version.isAtLeast1_1 else { throw HTTPParseError(.transferEncodingInHTTP10, text) }
            // §6.3 (3): both present may be an attempt at request smuggling.
            guard contentLengths.isEmpty else { throw HTTPParseError(.contentLengthWithTransferEncoding, text) }
            // RFC 9110 §5.6.1: empty list elements are ignored.
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map(HTTPHeaders.trimmed).filter {
                !$0.isEmpty
            }
            // §6.3 (4): chunked must be the final coding, and (§6.1) applied only once.
            guard let last = codings.last, HTTPHeaders.equalsIgnoringCase(last, "chunked"),
                !codings.dropLast().contains(where: { HTTPHeaders.equalsIgnoringCase($0, "chunked") })
            else { throw HTTPParseError(.invalidTransferEncoding, text) }
            // §6.1: a coding the server does not understand (gzip, ...) → 501.
            guard codings.count == 1 else { throw HTTPParseError(.unsupportedTransferCoding, text) }
            return .chunked
        }
        guard let value = contentLengths.first else { return .none }
        // §6.3 (5): differing or repeated values are unrecoverable; a list like "5, 5"
        // is refused too rather than guessed at.
        guard contentLengths.count == 1 else {
            throw HTTPParseError(.multipleContentLengths, Array(contentLengths.joined(separator: ", ").utf8))
        }
        // RFC 9110 §8.6: Content-Length = 1*DIGIT. No sign, no spaces, no overflow.
        var length = 0
        guard !value.isEmpty else { throw HTTPParseError(.invalidContentLength) }
        for byte in value.utf8 {
            guard HTTPSyntax.isDigit(byte) else { throw HTTPParseError(.invalidContentLength, Array(value.utf8)) }
            let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw HTTPParseError(.invalidContentLength, Array(value.utf8)) }
            length = sum
        }
        guard length <= limits.maxBodyBytes else { throw HTTPParseError(.bodyTooLarge, Array(value.utf8)) }
        return .length(length)
    }

    /// RFC 9110 §10.1.1: 100-continue is the only expectation; any other → 417. An
    /// HTTP/1.0 request's expectation is ignored.
    private func expectsContinue() throws(HTTPParseError) -> Bool {
        let values = head.headers.values("Expect")
        guard !values.isEmpty, head.version.isAtLeast1_1 else { return false }
        for element in values.flatMap({ $0.split(separator: ",") }).map(HTTPHeaders.trimmed) where !element.isEmpty {
            guard HTTPHeaders.equalsIgnoringCase(element, "100-continue") else {
                throw HTTPParseError(.unsupportedExpectation, Array(element.utf8))
            }
        }
        return true
    }
}
