// bytea → base64 string. With bytea_output = hex Postgres prints `\x` and two
// hex digits per byte (docs 8.4.1, "bytea Hex Format"); the older escape
// format (8.4.2) is decoded too, so a server left on `escape` still works.

extension ValueConverter {
    static func writeBytea(_ text: TextBytes, into writer: inout JSONWriter) throws(ValueConversionError) {
        let backslash = UInt8(ascii: "\\")
        if text.count >= 2, text.first == backslash, text[text.startIndex + 1] == UInt8(ascii: "x") {
            let hex = text.dropFirst(2)
            guard hex.count % 2 == 0 else {
                throw ValueConversionError(kind: .bytea, text: text, reason: "odd number of hex digits")
            }
            let valid = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(hex.count / 2, 1)) { buffer in
                var index = hex.startIndex
                var out = 0
                while index < hex.endIndex {
                    guard let high = hexValue(hex[index]), let low = hexValue(hex[index + 1]) else { return false }
                    buffer[out] = high << 4 | low
                    out += 1
                    index += 2
                }
                writer.beginString()
                writer.appendBase64(of: UnsafeBufferPointer(rebasing: buffer[0..<out]))
                writer.endString()
                return true
            }
            guard valid else { throw ValueConversionError(kind: .bytea, text: text, reason: "invalid hex digit") }
        } else {
            guard let bytes = decodeEscapeFormat(text) else {
                throw ValueConversionError(kind: .bytea, text: text, reason: "invalid escape sequence")
            }
            bytes.withUnsafeBufferPointer { writer.base64String($0[...]) }
        }
    }

    @inline(__always)
    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Escape format: `\\` is a backslash, `\ooo` an octal byte, anything else itself.
    private static func decodeEscapeFormat(_ text: TextBytes) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                index += 1
                continue
            }
            if index + 1 < text.endIndex, text[index + 1] == UInt8(ascii: "\\") {
                bytes.append(byte)
                index += 2
                continue
            }
            guard index + 3 < text.endIndex else { return nil }
            var value: UInt32 = 0
            for digit in text[(index + 1)...(index + 3)] {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { return nil }
                value = value << 3 | UInt32(digit - UInt8(ascii: "0"))
            }
            guard value <= 0xFF else { return nil }
            bytes.append(UInt8(value))
            index += 4
        }
        return bytes
    }
}
