// date, timestamp, timestamptz and timetz text (DateStyle ISO) → ISO 8601.
//
// Postgres prints `2026-11-24 10:00:00.5+00`, and for years before 1 AD
// appends ` BC`: `0044-03-15 BC` (docs 8.5.2, "Date/Time Output"). ISO 8601
// has no era suffix; it numbers years astronomically, so 1 BC is year 0000
// and 44 BC is -0043 (ISO 8601-1:2019, 4.3.2, expanded and negative years).
// `infinity` and `-infinity` are kept as they are. Offsets are written
// ±HH:MM (RFC 3339 section 5.6), and a zero offset of a timestamptz as `Z`.

extension ValueConverter {
    private static let space = UInt8(ascii: " "), dash = UInt8(ascii: "-"), plus = UInt8(ascii: "+")
    private static let colon = UInt8(ascii: ":"), dot = UInt8(ascii: ".")

    static func writeDateTime(_ text: TextBytes, kind: ValueKind, into writer: inout JSONWriter)
        throws(ValueConversionError)
    {
        if text.elementsEqual("infinity".utf8) || text.elementsEqual("-infinity".utf8) {
            writer.string(utf8: text)
            return
        }
        let fail = { (reason: String) in ValueConversionError(kind: kind, text: text, reason: reason) }
        let start = text.startIndex
        var end = text.endIndex
        let isBC = text.count > 3 && text.suffix(3).elementsEqual(" BC".utf8)
        if isBC { end -= 3 }

        // Year (4 or more digits), then -MM-DD.
        var yearEnd = start
        while yearEnd < end, isDigit(text[yearEnd]) { yearEnd += 1 }
        let dateEnd = yearEnd + 6
        guard yearEnd - start >= 4, dateEnd <= end, text[yearEnd] == dash, text[yearEnd + 3] == dash,
            isDigit(text[yearEnd + 1]), isDigit(text[yearEnd + 2]),
            isDigit(text[yearEnd + 4]), isDigit(text[yearEnd + 5])
        else { throw fail("expected an ISO date YYYY-MM-DD") }

        writer.beginString()
        if isBC {
            guard yearEnd - start <= 9 else { throw fail("year out of range") }
            var year = 0
            for digit in text[start..<yearEnd] { year = year * 10 + Int(digit - UInt8(ascii: "0")) }
            guard year >= 1 else { throw fail("year 0 BC does not exist") }
            appendYear(1 - year, into: &writer)
        } else {
            writer.appendRaw(text[start..<yearEnd])
        }
        writer.appendRaw(text[yearEnd..<dateEnd])

        if kind == .date {
            guard dateEnd == end else { throw fail("unexpected text after the date") }
            writer.endString()
            return
        }
        guard dateEnd < end, text[dateEnd] == space else { throw fail("expected a time after the date") }
        writer.appendRaw(UInt8(ascii: "T"))
        let time = text[(dateEnd + 1)..<end]
        if kind == .timestamptz {
            guard let sign = time.firstIndex(where: { $0 == plus || $0 == dash }),
                isClockTime(time[..<sign]), isOffset(time[sign...])
            else { throw fail("expected HH:MM:SS and a zone offset") }
            writer.appendRaw(time[..<sign])
            appendOffset(time[sign...], zeroAsZ: true, into: &writer)
        } else {
            guard isClockTime(time) else { throw fail("expected HH:MM:SS") }
            writer.appendRaw(time)
        }
        writer.endString()
    }

    /// timetz: `10:00:00.5+02` → `10:00:00.5+02:00`.
    static func writeTimeWithZone(_ text: TextBytes, into writer: inout JSONWriter) throws(ValueConversionError) {
        guard let sign = text.firstIndex(where: { $0 == plus || $0 == dash }),
            isClockTime(text[..<sign]), isOffset(text[sign...])
        else { throw ValueConversionError(kind: .timetz, text: text, reason: "expected HH:MM:SS and a zone offset") }
        writer.beginString()
        writer.appendRaw(text[..<sign])
        appendOffset(text[sign...], zeroAsZ: false, into: &writer)
        writer.endString()
    }

    /// An astronomical year: at least four digits, `-` before negative ones.
    private static func appendYear(_ year: Int, into writer: inout JSONWriter) {
        if year < 0 { writer.appendRaw(dash) }
        var digits: [UInt8] = []
        var magnitude = year.magnitude
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        for _ in digits.count..<max(4, digits.count) { writer.appendRaw(UInt8(ascii: "0")) }
        for digit in digits.reversed() { writer.appendRaw(digit) }
    }

    /// `+HH` → `+HH:00`; `+HH:MM` and `+HH:MM:SS` (historical local mean
    /// times) as they are; all zero → `Z` when `zeroAsZ`.
    private static func appendOffset(_ offset: TextBytes, zeroAsZ: Bool, into writer: inout JSONWriter) {
        if zeroAsZ, offset.dropFirst().allSatisfy({ $0 == UInt8(ascii: "0") || $0 == colon }) {
            writer.appendRaw(UInt8(ascii: "Z"))
            return
        }
        writer.appendRaw(offset)
        if offset.count == 3 {
            writer.appendRaw(colon)
            writer.appendRaw(UInt8(ascii: "0"))
            writer.appendRaw(UInt8(ascii: "0"))
        }
    }

    /// `HH:MM:SS` with an optional fraction; the only characters it may hold
    /// are then safe to write unescaped.
    private static func isClockTime(_ time: TextBytes) -> Bool {
        time.count >= 8 && time.allSatisfy { isDigit($0) || $0 == colon || $0 == dot }
    }

    /// `±HH`, `±HH:MM` or `±HH:MM:SS`.
    private static func isOffset(_ offset: TextBytes) -> Bool {
        guard [3, 6, 9].contains(offset.count), offset.first == plus || offset.first == dash else { return false }
        for (position, byte) in offset.dropFirst().enumerated() {
            guard position % 3 == 2 ? byte == colon : isDigit(byte) else { return false }
        }
        return true
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
