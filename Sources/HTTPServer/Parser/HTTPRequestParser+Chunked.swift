// The chunked transfer coding (RFC 9112 §7.1): the chunk-size line and its chunk
// extensions (§7.1.1), which are checked against the grammar and then ignored.

extension HTTPRequestParser {
    /// chunk-size [ chunk-ext ], where
    /// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) and
    /// chunk-ext-val = token / quoted-string. Returns the size; checks the body limit.
    mutating func chunkSize(_ range: Range<Int>) throws(HTTPParseError) -> Int {
        let line = buffer[range]
        var index = line.startIndex
        var size = 0
        while index < line.endIndex, let digit = HTTPSyntax.hexValue(line[index]) {
            size = size * 16 + Int(digit)
            // Checked per digit, so the size can never overflow.
            if size > limits.maxBodyBytes - bodyCount { throw HTTPParseError(.bodyTooLarge, line) }
            index += 1
        }
        guard index > line.startIndex else { throw HTTPParseError(.invalidChunkLine, line) }
        while true {
            var cursor = Self.skipWhitespace(line, from: index)
            if cursor == line.endIndex {
                // Whitespace is only allowed around ";" and "=", never trailing alone.
                guard cursor == index else { throw HTTPParseError(.invalidChunkLine, line) }
                return size
            }
            guard line[cursor] == UInt8(ascii: ";") else { throw HTTPParseError(.invalidChunkLine, line) }
            cursor = Self.skipWhitespace(line, from: cursor + 1)
            let nameEnd = Self.skipToken(line, from: cursor)
            guard nameEnd > cursor else { throw HTTPParseError(.invalidChunkLine, line) }
            cursor = nameEnd
            let equals = Self.skipWhitespace(line, from: cursor)
            if equals < line.endIndex, line[equals] == UInt8(ascii: "=") {
                let valueStart = Self.skipWhitespace(line, from: equals + 1)
                let valueEnd =
                    valueStart < line.endIndex && line[valueStart] == UInt8(ascii: "\"")
                    ? Self.skipQuotedString(line, from: valueStart)
                    : Self.skipToken(line, from: valueStart)
                guard let valueEnd, valueEnd > valueStart else { throw HTTPParseError(.invalidChunkLine, line) }
                cursor = valueEnd
            }
            index = cursor
        }
    }

    private static func skipWhitespace(_ line: ArraySlice<UInt8>, from start: Int) -> Int {
        var index = start
        while index < line.endIndex, line[index] == HTTPSyntax.space || line[index] == HTTPSyntax.tab { index += 1 }
        return index
    }

    private static func skipToken(_ line: ArraySlice<UInt8>, from start: Int) -> Int {
        var index = start
        while index < line.endIndex, HTTPSyntax.isTokenChar(line[index]) { index += 1 }
        return index
    }

    /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4).
    /// Returns the index after the closing quote, nil if it is malformed.
    private static func skipQuotedString(_ line: ArraySlice<UInt8>, from start: Int) -> Int? {
        var index = start + 1
        while index < line.endIndex {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") { return index + 1 }
            if byte == UInt8(ascii: "\\") {
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                guard index + 1 < line.endIndex, HTTPSyntax.isFieldValueChar(line[index + 1]) else { return nil }
                index += 2
            } else {
                guard HTTPSyntax.isQuotedTextChar(byte) else { return nil }
                index += 1
            }
        }
        return nil
    }
}
