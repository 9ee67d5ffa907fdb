// Postgres array text → nested JSON arrays, each element converted by the
// element kind (docs 8.15.6, "Array Input and Output Syntax", and array_in /
// array_out in src/backend/utils/adt/arrayfuncs.c):
//
// - `{1,2,NULL}`; one pair of braces per dimension: `{{1,2},{3,4}}`; `{}`.
// - Elements are quoted when they are empty, contain braces, quotes,
//   backslashes, the delimiter or white space, or spell NULL; inside quotes
//   a backslash escapes the next character. Unquoted NULL (any case) is null,
//   quoted "NULL" is the string.
// - Arrays whose lower bounds are not 1 start with `[0:1]=`; JSON arrays
//   have no bounds, so that decoration is dropped.
// - The delimiter is `,` except for box, whose text contains commas (`;`).

struct ArrayTextParser {
    let text: TextBytes
    let element: ValueKind
    let delimiter: UInt8
    /// The array kind, for errors.
    let kind: ValueKind
    private var index: Int

    /// Postgres allows at most 6 dimensions (MAXDIM).
    private static let maxDimensions = 6

    private static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    init(text: TextBytes, element: ValueKind, delimiter: UInt8, kind: ValueKind) {
        self.text = text
        self.element = element
        self.delimiter = delimiter
        self.kind = kind
        index = text.startIndex
    }

    mutating func parse(into writer: inout JSONWriter) throws(ValueConversionError) {
        skipSpace()
        if peek == UInt8(ascii: "[") {
            // Dimension decoration `[lower:upper]...=`.
            guard let equals = text[index...].firstIndex(of: UInt8(ascii: "=")) else {
                throw failure("dimension decoration without '='")
            }
            index = equals + 1
            skipSpace()
        }
        try parseArray(depth: 1, into: &writer)
        skipSpace()
        guard index == text.endIndex else { throw failure("text after the closing brace") }
    }

    private mutating func parseArray(depth: Int, into writer: inout JSONWriter) throws(ValueConversionError) {
        guard peek == Self.openBrace else { throw failure("expected '{'") }
        guard depth <= Self.maxDimensions else { throw failure("more than \(Self.maxDimensions) dimensions") }
        index += 1
        writer.beginArray()
        skipSpace()
        if peek == Self.closeBrace {
            index += 1
            writer.endArray()
            return
        }
        while true {
            skipSpace()
            switch peek {
            case Self.openBrace: try parseArray(depth: depth + 1, into: &writer)
            case Self.quote: try parseQuoted(into: &writer)
            default: try parseUnquoted(into: &writer)
            }
            skipSpace()
            guard let next = peek else { throw failure("missing '}'") }
            index += 1
            if next == Self.closeBrace { break }
            guard next == delimiter else { throw failure("expected a delimiter or '}'") }
        }
        writer.endArray()
    }

    /// `"..."` with backslash escapes; never null.
    private mutating func parseQuoted(into writer: inout JSONWriter) throws(ValueConversionError) {
        index += 1
        let start = index
        var hasEscape = false
        while index < text.endIndex, text[index] != Self.quote {
            if text[index] == Self.backslash {
                hasEscape = true
                index += 1
            }
            index += 1
        }
        guard index < text.endIndex else { throw failure("unterminated quoted element") }
        let raw = text[start..<index]
        index += 1
        try writeElement(raw, unescaping: hasEscape, into: &writer)
    }

    /// An element up to the delimiter or '}', trailing white space trimmed.
    private mutating func parseUnquoted(into writer: inout JSONWriter) throws(ValueConversionError) {
        let start = index
        var hasEscape = false
        var lastNonSpace = index
        while index < text.endIndex {
            let byte = text[index]
            if byte == delimiter || byte == Self.closeBrace { break }
            if byte == Self.openBrace || byte == Self.quote {
                throw failure("unexpected '\(Character(Unicode.Scalar(byte)))'")
            }
            if byte == Self.backslash {
                hasEscape = true
                index += 1
            }
            index += 1
            if !Self.isSpace(byte) { lastNonSpace = index }
        }
        guard index <= text.endIndex else { throw failure("backslash at the end") }
        let raw = text[start..<min(lastNonSpace, text.endIndex)]
        guard !raw.isEmpty else { throw failure("empty unquoted element") }
        if !hasEscape, raw.count == 4, raw.map({ $0 | 0x20 }).elementsEqual("null".utf8) {
            writer.null()
            return
        }
        try writeElement(raw, unescaping: hasEscape, into: &writer)
    }

    private func writeElement(
        _ raw: TextBytes, unescaping: Bool, into writer: inout JSONWriter
    ) throws(ValueConversionError) {
        guard unescaping else { return try writeElement(raw, into: &writer) }
        let bytes = Self.unescaped(raw)
        try bytes.withUnsafeBufferPointer { (buffer) throws(ValueConversionError) in
            try writeElement(buffer[...], into: &writer)
        }
    }

    /// Converts one element; its failure is reported for the whole array.
    private func writeElement(_ value: TextBytes, into writer: inout JSONWriter) throws(ValueConversionError) {
        do {
            try ValueConverter.write(value, kind: element, into: &writer)
        } catch {
            throw failure("element '\(String(decoding: value, as: UTF8.self))': \(error.reason)")
        }
    }

    private static func unescaped(_ raw: TextBytes) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var escaped = false
        for byte in raw {
            if !escaped, byte == backslash {
                escaped = true
                continue
            }
            escaped = false
            bytes.append(byte)
        }
        return bytes
    }

    private var peek: UInt8? { index < text.endIndex ? text[index] : nil }

    private mutating func skipSpace() {
        while index < text.endIndex, Self.isSpace(text[index]) { index += 1 }
    }

    /// array_isspace: space, \t, \n, \r, \v, \f.
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private func failure(_ reason: String) -> ValueConversionError {
        ValueConversionError(kind: kind, text: text, reason: "\(reason) at offset \(index - text.startIndex)")
    }
}
