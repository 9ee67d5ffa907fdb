// Checks that a number's text is a JSON number (RFC 8259 section 6) before it
// is written raw: Postgres prints integers and floats in forms that are (with
// extra_float_digits > 0, e.g. 1e+30, -0, 5e-324), but a kind registered for
// the wrong type must not produce invalid JSON.

enum JSONNumber {
    private static let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9"), minus = UInt8(ascii: "-")

    /// `-?(0|[1-9][0-9]*)`
    static func isInteger(_ text: TextBytes) -> Bool {
        var index = text.startIndex
        if index < text.endIndex, text[index] == minus { index += 1 }
        guard index < text.endIndex else { return false }
        if text[index] == zero { return index + 1 == text.endIndex }
        for byte in text[index...] where byte < zero || byte > nine { return false }
        return true
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    static func isValid(_ text: TextBytes) -> Bool {
        var index = text.startIndex
        let end = text.endIndex
        func digits() -> Int {
            let start = index
            while index < end, text[index] >= zero, text[index] <= nine { index += 1 }
            return index - start
        }
        if index < end, text[index] == minus { index += 1 }
        guard index < end else { return false }
        if text[index] == zero {
            index += 1
        } else if digits() == 0 {
            return false
        }
        if index < end, text[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < end, text[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < end, text[index] == UInt8(ascii: "+") || text[index] == minus { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == end
    }

    /// `NaN`, `Infinity`, `-Infinity` as float4/float8/numeric print them.
    static func isNonFiniteFloat(_ text: TextBytes) -> Bool {
        text.elementsEqual("NaN".utf8) || text.elementsEqual("Infinity".utf8)
            || text.elementsEqual("-Infinity".utf8)
    }
}
