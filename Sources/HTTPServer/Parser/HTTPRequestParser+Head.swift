// The request-line (RFC 9112 §3) and field lines (RFC 9112 §5) of a request head.

extension HTTPRequestParser {
    /// request-line = method SP request-target SP HTTP-version, with exactly one SP
    /// between the parts (RFC 9112 §3).
    mutating func parseRequestLine(_ range: Range<Int>) throws(HTTPParseError) {
        let line = buffer[range]
        guard let firstSpace = line.firstIndex(of: HTTPSyntax.space),
            let secondSpace = line[(firstSpace + 1)...].firstIndex(of: HTTPSyntax.space)
        else { throw HTTPParseError(.invalidRequestLine, line) }
        let method = line[..<firstSpace]
        let target = line[(firstSpace + 1)..<secondSpace]
        let version = line[(secondSpace + 1)...]
        guard !method.isEmpty, method.allSatisfy(HTTPSyntax.isTokenChar) else {
            throw HTTPParseError(.invalidMethod, line)
        }
        head.method = String(decoding: method, as: UTF8.self)
        guard Self.isValidTarget(target, method: head.method) else { throw HTTPParseError(.invalidTarget, line) }
        head.target = String(decoding: target, as: UTF8.self)
        head.version = try Self.version(version)
    }

    /// HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
    /// A well-formed version whose major is not 1 is 505 rather than 400.
    static func version(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        let text = Array(bytes)
        guard text.count == 8, text.starts(with: Array("HTTP/".utf8)), HTTPSyntax.isDigit(text[5]),
            text[6] == UInt8(ascii: "."), HTTPSyntax.isDigit(text[7])
        else { throw HTTPParseError(.invalidVersion, bytes) }
        let version = HTTPVersion(major: Int(text[5] - UInt8(ascii: "0")), minor: Int(text[7] - UInt8(ascii: "0")))
        guard version.major == 1 else { throw HTTPParseError(.unsupportedVersion, bytes) }
        return version
    }

    /// One of the forms of RFC 9112 §3.2: origin-form (`/path?query`), absolute-form
    /// (`http://host/path`), asterisk-form (`*`, OPTIONS only). authority-form is for
    /// CONNECT, which a server that is not a proxy does not support. Every `%` must
    /// start a valid escape (RFC 3986 §2.1).
    static func isValidTarget(_ target: ArraySlice<UInt8>, method: String) -> Bool {
        guard let first = target.first else { return false }
        var index = target.startIndex
        while index < target.endIndex {
            let byte = target[index]
            guard HTTPSyntax.isTargetChar(byte) else { return false }
            if byte == UInt8(ascii: "%") {
                guard index + 2 < target.endIndex, HTTPSyntax.hexValue(target[index + 1]) != nil,
                    HTTPSyntax.hexValue(target[index + 2]) != nil
                else { return false }
                index += 3
            } else {
                index += 1
            }
        }
        if first == UInt8(ascii: "/") { return true }
        if target.elementsEqual("*".utf8) { return method == "OPTIONS" }
        let lowered = target.prefix(8).map { $0 | 0x20 }
        for scheme in ["http://", "https://"] where lowered.starts(with: scheme.utf8) {
            return target.count > scheme.utf8.count
        }
        return false
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), counted against
    /// the section limits. Shared by header and trailer sections.
    mutating func field(_ range: Range<Int>) throws(HTTPParseError) -> HTTPHeaders.Field {
        head.sectionBytes += range.count + 2
        head.fieldCount += 1
        if head.fieldCount > limits.maxHeaderCount { throw HTTPParseError(.tooManyFields, buffer[range]) }
        let line = buffer[range]
        // RFC 9112 §5.2: obs-fold may be rejected with 400; §2.2: so may whitespace
        // between the request-line and the first field. Both start with SP or HTAB.
        if line.first == HTTPSyntax.space || line.first == HTTPSyntax.tab { throw HTTPParseError(.obsFold, line) }
        var index = line.startIndex
        while index < line.endIndex, HTTPSyntax.isTokenChar(line[index]) { index += 1 }
        guard index < line.endIndex, index > line.startIndex else { throw HTTPParseError(.invalidFieldName, line) }
        switch line[index] {
        case HTTPSyntax.colon:
            break
        case HTTPSyntax.space, HTTPSyntax.tab:
            // RFC 9112 §5.1: MUST reject whitespace between field name and colon with 400.
            let next = line[index...].first { $0 != HTTPSyntax.space && $0 != HTTPSyntax.tab }
            throw HTTPParseError(next == HTTPSyntax.colon ? .whitespaceBeforeColon : .invalidFieldName, line)
        default:
            throw HTTPParseError(.invalidFieldName, line)
        }
        let name = line[..<index]
        var value = line[(index + 1)...]
        while let first = value.first, first == HTTPSyntax.space || first == HTTPSyntax.tab { value.removeFirst() }
        while let last = value.last, last == HTTPSyntax.space || last == HTTPSyntax.tab { value.removeLast() }
        guard value.allSatisfy(HTTPSyntax.isFieldValueChar) else { throw HTTPParseError(.invalidFieldValue, line) }
        return HTTPHeaders.Field(
            name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }
}
