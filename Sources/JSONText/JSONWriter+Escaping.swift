// String escaping for JSONWriter, RFC 8259 section 7: quotation mark, reverse
// solidus and the control characters U+0000–U+001F must be escaped. We use the
// two-character forms JSON defines (\b \f \n \r \t) and \u00xx for the other
// control characters, as Postgres's own to_json does, so the output matches
// Postgres byte for byte. Everything else passes through, after a check that
// it is well-formed UTF-8 (RFC 3629 section 4; RFC 8259 section 8.1 requires
// it): a byte that starts no valid sequence becomes U+FFFD, so the output is
// valid JSON whatever the server's encoding.

extension JSONWriter {
    mutating func appendQuoted(_ value: String) {
        var value = value
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8 { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func appendQuoted(utf8 value: ArraySlice<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        value.withUnsafeBufferPointer { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `value` escaped for the inside of a JSON string.
    package mutating func appendEscaped(_ value: ArraySlice<UInt8>) {
        value.withUnsafeBufferPointer { appendEscaped($0) }
    }

    package mutating func appendEscaped(_ source: UnsafeBufferPointer<UInt8>) {
        let count = source.count
        var index = 0
        var runStart = 0  // start of the bytes that are copied unchanged
        while index < count {
            let byte = source[index]
            if byte >= 0x20, byte < 0x80, byte != 0x22, byte != 0x5C {
                index += 1
                continue
            }
            if byte >= 0x80 {
                let length = Self.validUTF8SequenceLength(source, at: index)
                if length > 0 {
                    index += length
                    continue
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index]))
            if byte >= 0x80 {
                bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                index += Self.invalidUTF8SubpartLength(source, at: index)
            } else {
                appendEscape(byte)
                index += 1
            }
            runStart = index
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<count]))
    }

    private mutating func appendEscape(_ byte: UInt8) {
        let backslash = UInt8(ascii: "\\")
        switch byte {
        case 0x22: bytes.append(contentsOf: [backslash, 0x22])
        case 0x5C: bytes.append(contentsOf: [backslash, backslash])
        case 0x08: bytes.append(contentsOf: [backslash, UInt8(ascii: "b")])
        case 0x0C: bytes.append(contentsOf: [backslash, UInt8(ascii: "f")])
        case 0x0A: bytes.append(contentsOf: [backslash, UInt8(ascii: "n")])
        case 0x0D: bytes.append(contentsOf: [backslash, UInt8(ascii: "r")])
        case 0x09: bytes.append(contentsOf: [backslash, UInt8(ascii: "t")])
        default:
            let hex: (UInt8) -> UInt8 = { $0 < 10 ? 0x30 + $0 : 0x57 + $0 }  // lower case, as Postgres
            bytes.append(contentsOf: [backslash, UInt8(ascii: "u"), 0x30, 0x30, hex(byte >> 4), hex(byte & 0xF)])
        }
    }

    /// The length of the well-formed UTF-8 sequence at `index` (whose first
    /// byte is ≥ 0x80), or 0 if there is none (Unicode 15, table 3-7).
    @inline(__always)
    static func validUTF8SequenceLength(_ source: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = source[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF  // range of the second byte
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F  // no UTF-16 surrogates
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F  // nothing above U+10FFFF
        default: return 0
        }
        guard source.count - index >= length else { return 0 }
        let second = source[index + 1]
        guard second >= low, second <= high else { return 0 }
        for offset in 2..<length where source[index + offset] & 0xC0 != 0x80 { return 0 }
        return length
    }

    /// How many bytes at `index` one U+FFFD replaces: the lead byte and the
    /// continuation bytes that could still have completed it (the "maximal
    /// subpart" practice of Unicode 15, section 3.9), at least 1.
    static func invalidUTF8SubpartLength(_ source: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = source[index]
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return 1
        }
        var consumed = 1
        while consumed < length, index + consumed < source.count {
            let byte = source[index + consumed]
            let (lo, hi) = consumed == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            guard byte >= lo, byte <= hi else { break }
            consumed += 1
        }
        return consumed
    }
}
