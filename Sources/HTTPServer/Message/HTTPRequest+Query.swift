// Percent-decoding of the path and the query of a request (RFC 3986 §2.1), and
// `application/x-www-form-urlencoded` query items (`+` is a space).

extension HTTPRequest {
    /// The path with percent-escapes decoded, or nil if an escape is malformed or the
    /// result is not UTF-8. Decoded `/` are indistinguishable from separators here:
    /// code that maps paths to files must split `path` first (as `StaticFiles` does).
    public var decodedPath: String? {
        Self.percentDecode(Substring(path), plusIsSpace: false).flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// The query's `name=value` pairs, decoded, in order. Malformed pairs are skipped.
    public var queryItems: [(name: String, value: String)] {
        guard let query else { return [] }
        return query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decodeComponent(parts[0]), !name.isEmpty else { return nil }
            guard let value = parts.count > 1 ? Self.decodeComponent(parts[1]) : "" else { return nil }
            return (name, value)
        }
    }

    /// The first value of query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    private static func decodeComponent(_ text: Substring) -> String? {
        percentDecode(text, plusIsSpace: true).flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// Decodes `%XX` escapes; nil if a `%` is not followed by two hex digits.
    static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(HTTPSyntax.hexValue),
                    let low = iterator.next().flatMap(HTTPSyntax.hexValue)
                else { return nil }
                output.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                output.append(UInt8(ascii: " "))
            default:
                output.append(byte)
            }
        }
        return output
    }
}
