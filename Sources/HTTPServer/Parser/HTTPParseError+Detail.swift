// What the client should fix, for each rule the parser enforces: the
// `detail` of the problem document the server answers a rejected request with.

extension HTTPParseError {
    /// One sentence naming the broken rule and what a well-formed request does instead.
    func detail(limits: HTTPRequestParser.Limits) -> String {
        switch kind {
        case .requestLineTooLong:
            "The request line is longer than \(limits.maxRequestLine) bytes; send a shorter path and query."
        case .invalidRequestLine:
            "The request line is not 'METHOD SP request-target SP HTTP/1.1' (RFC 9112 §3)."
        case .invalidMethod:
            "The method is not an HTTP token (RFC 9112 §3.1)."
        case .invalidTarget:
            "The request target is not a valid origin-form path and query, or has a bad %-escape (RFC 9112 §3.2)."
        case .invalidVersion:
            "The HTTP version is not HTTP/DIGIT.DIGIT (RFC 9112 §2.3)."
        case .unsupportedVersion:
            "Only HTTP/1.0 and HTTP/1.1 are served; send HTTP/1.1."
        case .bareCR:
            "A CR not followed by LF in the request head; end every line with CRLF (RFC 9112 §2.2)."
        case .bareLF:
            "A LF without the CR before it in the request head; end every line with CRLF (RFC 9112 §2.2)."
        case .obsFold:
            "A header line starts with whitespace (obsolete line folding); put each field on one line (RFC 9112 §5.2)."
        case .whitespaceBeforeColon:
            "Whitespace between a field name and its colon (RFC 9112 §5.1)."
        case .invalidFieldName:
            "A header line has no colon, or its field name is not a token (RFC 9110 §5.1)."
        case .invalidFieldValue:
            "A header field value contains a control character (RFC 9110 §5.5)."
        case .headerSectionTooLarge:
            "The header section is larger than \(limits.maxHeaderBytes) bytes; send fewer or shorter fields."
        case .tooManyFields:
            "The request has more than \(limits.maxHeaderCount) header fields; send fewer."
        case .missingHost:
            "An HTTP/1.1 request needs a Host header field (RFC 9112 §3.2)."
        case .multipleHosts:
            "The request has more than one Host header field (RFC 9112 §3.2)."
        case .invalidHost:
            "The Host header field is not host[:port] (RFC 9112 §3.2)."
        case .contentLengthWithTransferEncoding:
            "The request has both Content-Length and Transfer-Encoding; send one of them (RFC 9112 §6.3)."
        case .multipleContentLengths:
            "The request has more than one Content-Length; send exactly one (RFC 9112 §6.3)."
        case .invalidContentLength:
            "Content-Length is not a decimal number of bytes (RFC 9112 §6.3)."
        case .transferEncodingInHTTP10:
            "Transfer-Encoding is not allowed in an HTTP/1.0 request; send Content-Length (RFC 9112 §6.1)."
        case .invalidTransferEncoding:
            "Transfer-Encoding must end with chunked, applied once (RFC 9112 §6.3)."
        case .unsupportedTransferCoding:
            "Only the chunked transfer coding is supported (RFC 9112 §6.1)."
        case .invalidChunkLine:
            "A chunk-size line of the chunked body is malformed (RFC 9112 §7.1)."
        case .invalidChunkTerminator:
            "Chunk data is not followed by CRLF (RFC 9112 §7.1)."
        case .bodyTooLarge:
            "The request body is over the \(limits.maxBodyBytes)-byte limit; send a smaller body."
        case .unsupportedExpectation:
            "Only 'Expect: 100-continue' is supported (RFC 9110 §10.1.1)."
        }
    }
}
