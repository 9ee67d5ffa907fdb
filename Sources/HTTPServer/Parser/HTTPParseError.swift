// Why a request was rejected: one precise kind per rule of RFC 9112 / RFC 9110 the
// parser enforces, the status the server answers with, and the offending bytes.

struct HTTPParseError: Error, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// RFC 9112 §3: request-line longer than the limit → 414.
        case requestLineTooLong
        /// RFC 9112 §3: not `method SP request-target SP HTTP-version`.
        case invalidRequestLine
        /// RFC 9112 §3.1: method is not a token.
        case invalidMethod
        /// RFC 9112 §3.2: request-target in none of the four forms, or a bad %-escape.
        case invalidTarget
        /// RFC 9112 §2.3: not `HTTP/DIGIT.DIGIT`.
        case invalidVersion
        /// RFC 9110 §15.6.6: a major version other than 1 → 505.
        case unsupportedVersion
        /// RFC 9112 §2.2: CR not followed by LF.
        case bareCR
        /// RFC 9112 §2.2: LF without the CR before it (accepted by some parsers, so
        /// rejected here to leave no room for disagreement).
        case bareLF
        /// RFC 9112 §5.2: a line starting with SP or HTAB (obsolete line folding,
        /// or whitespace between the request-line and the first field).
        case obsFold
        /// RFC 9112 §5.1: whitespace between field name and colon.
        case whitespaceBeforeColon
        /// RFC 9110 §5.1: a field name that is empty or not a token, or no colon.
        case invalidFieldName
        /// RFC 9110 §5.5: a control byte other than HTAB in a field value.
        case invalidFieldValue
        /// Header (or trailer) section longer than the limit → 431.
        case headerSectionTooLarge
        /// More header (or trailer) fields than the limit → 431.
        case tooManyFields
        /// RFC 9112 §3.2: an HTTP/1.1 request without Host.
        case missingHost
        /// RFC 9112 §3.2: more than one Host field.
        case multipleHosts
        /// RFC 9112 §3.2: a Host value that is not `uri-host [":" port]`.
        case invalidHost
        /// RFC 9112 §6.3 (4): both Transfer-Encoding and Content-Length.
        case contentLengthWithTransferEncoding
        /// RFC 9112 §6.3 (5): Content-Length given more than once.
        case multipleContentLengths
        /// RFC 9112 §6.3 (5): Content-Length not 1*DIGIT, or too large to represent.
        case invalidContentLength
        /// RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request.
        case transferEncodingInHTTP10
        /// RFC 9112 §6.3 (4): chunked missing, not final, or applied twice.
        case invalidTransferEncoding
        /// RFC 9112 §6.1: a transfer coding other than chunked → 501.
        case unsupportedTransferCoding
        /// RFC 9112 §7.1: a malformed chunk-size line or chunk extension.
        case invalidChunkLine
        /// RFC 9112 §7.1: chunk-data not followed by CRLF.
        case invalidChunkTerminator
        /// Content larger than the body limit → 413.
        case bodyTooLarge
        /// RFC 9110 §10.1.1: an expectation other than 100-continue → 417.
        case unsupportedExpectation
    }

    let kind: Kind
    /// Up to 64 bytes of the line (or field) that broke the rule.
    let bytes: [UInt8]

    init(_ kind: Kind, _ bytes: some Collection<UInt8> = [UInt8]()) {
        self.kind = kind
        self.bytes = Array(bytes.prefix(64))
    }

    /// The status of the error response.
    var status: Int {
        switch kind {
        case .requestLineTooLong: 414
        case .headerSectionTooLarge, .tooManyFields: 431
        case .bodyTooLarge: 413
        case .unsupportedVersion: 505
        case .unsupportedTransferCoding: 501
        case .unsupportedExpectation: 417
        default: 400
        }
    }

    var description: String {
        "\(kind) (\(status)) near \"\(String(decoding: bytes.map { $0 < 0x20 || $0 >= 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self))\""
    }
}
