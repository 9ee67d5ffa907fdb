// Reads the members a sink needs from an event's JSON (`op`, `key`,
// `source.schema`, `source.table`, `source.schema_version`) in one pass that
// skips every other value without building it: events can carry large
// row images and this runs once per forwarded event.

/// The routing members of one JSON event.
struct EventFields: Equatable {
    var op: String?
    var schema: String?
    var table: String?
    var schemaVersion: Int?
    /// The `key` member's JSON text; nil when absent or `null`.
    var key: [UInt8]?

    struct Malformed: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        var description: String { "\(reason) at byte \(offset)" }
    }

    init(json bytes: [UInt8]) throws(Malformed) {
        var scanner = JSONScanner(bytes: bytes)
        var sawOp = false
        var sawSource = false
        let finished = try scanner.members { (scanner, name) throws(Malformed) -> Bool in
            if name == "op" {
                op = try scanner.stringOrNull()
                sawOp = true
            } else if name == "key" {
                let range = try scanner.skipValue()
                key = bytes[range].elementsEqual("null".utf8) ? nil : Array(bytes[range])
                // The encoder writes `before` and `after`, the bulk of an
                // event, after `key`: once the routing members are read,
                // they are not walked.
                if sawOp && sawSource { return false }
            } else if name == "source" {
                sawSource = true
                if try scanner.isNull() { return true }
                try scanner.members { (scanner, name) throws(Malformed) -> Bool in
                    if name == "schema" {
                        schema = try scanner.stringOrNull()
                    } else if name == "table" {
                        table = try scanner.stringOrNull()
                    } else if name == "schema_version" {
                        schemaVersion = try scanner.integerOrNull()
                    } else {
                        _ = try scanner.skipValue()
                    }
                    return true
                }
            } else {
                _ = try scanner.skipValue()
            }
            return true
        }
        if finished { try scanner.expectEnd() }
    }
}

/// A member's name as read: its bytes when written without escapes (every
/// name the encoder writes), so comparing it builds no String; else its text.
struct MemberName {
    let bytes: ArraySlice<UInt8>?
    let text: String?

    static func == (name: MemberName, literal: StaticString) -> Bool {
        literal.withUTF8Buffer { wanted in
            if let bytes = name.bytes { return bytes.elementsEqual(wanted) }
            return name.text.map { $0.utf8.elementsEqual(wanted) } ?? false
        }
    }
}

/// A cursor over JSON text that walks objects member by member (RFC 8259).
struct JSONScanner {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ reason: String) -> EventFields.Malformed {
        EventFields.Malformed(offset: index, reason: reason)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(EventFields.Malformed) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw fail("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    /// Calls `body` with each member's name, positioned at its value; `body`
    /// must consume the value, and returns false to stop there (the rest of
    /// the object unread). Returns whether the object was read to its end.
    @discardableResult
    mutating func members(
        _ body: (inout JSONScanner, MemberName) throws(EventFields.Malformed) -> Bool
    ) throws(EventFields.Malformed) -> Bool {
        try expect(0x7B)
        skipWhitespace()
        if index < bytes.count, bytes[index] == 0x7D {
            index += 1
            return true
        }
        while true {
            skipWhitespace()
            let name = try memberName()
            try expect(0x3A)
            guard try body(&self, name) else { return false }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unterminated object") }
            if bytes[index] == 0x2C {
                index += 1
                continue
            }
            if bytes[index] == 0x7D {
                index += 1
                return true
            }
            throw fail("expected ',' or '}'")
        }
    }

    /// The member name at the cursor.
    private mutating func memberName() throws(EventFields.Malformed) -> MemberName {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == 0x22 else { throw fail("expected a member name") }
        var end = index + 1
        while end < bytes.count, bytes[end] != 0x22, bytes[end] != 0x5C { end += 1 }
        if end < bytes.count, bytes[end] == 0x22 {
            let name = bytes[(index + 1)..<end]
            index = end + 1
            return MemberName(bytes: name, text: nil)
        }
        guard let text = try string() else { throw fail("expected a member name") }
        return MemberName(bytes: nil, text: text)
    }

    mutating func isNull() throws(EventFields.Malformed) -> Bool {
        skipWhitespace()
        if bytes[index...].starts(with: "null".utf8) {
            index += 4
            return true
        }
        return false
    }

    mutating func stringOrNull() throws(EventFields.Malformed) -> String? {
        if try isNull() { return nil }
        guard let value = try string() else { throw fail("expected a string") }
        return value
    }

    mutating func integerOrNull() throws(EventFields.Malformed) -> Int? {
        if try isNull() { return nil }
        let range = try skipValue()
        guard let value = Int(String(decoding: bytes[range], as: UTF8.self)) else { throw fail("expected an integer") }
        return value
    }

    /// A string at the cursor, unescaped; nil (cursor unmoved) when the next value is not a string.
    mutating func string() throws(EventFields.Malformed) -> String? {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == 0x22 else { return nil }
        index += 1
        var scalars = String.UnicodeScalarView()
        var start = index
        var pendingHigh: UInt32?
        var escaped = false
        func flush(_ end: Int) {
            scalars.append(contentsOf: String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 {
                // Names without escapes (nearly all) skip the scalar view: building
                // a String from one was the forwarder's largest cost per event.
                if !escaped {
                    index += 1
                    return String(decoding: bytes[start..<index - 1], as: UTF8.self)
                }
                flush(index)
                index += 1
                return String(scalars)
            }
            guard byte == 0x5C else {
                index += 1
                continue
            }
            flush(index)
            escaped = true
            guard index + 1 < bytes.count else { break }
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case 0x22, 0x5C, 0x2F: scalars.append(Unicode.Scalar(escape))
            case 0x62: scalars.append("\u{08}")
            case 0x66: scalars.append("\u{0C}")
            case 0x6E: scalars.append("\n")
            case 0x72: scalars.append("\r")
            case 0x74: scalars.append("\t")
            case 0x75:
                guard index + 4 <= bytes.count,
                    let unit = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                else { throw fail("bad \\u escape") }
                index += 4
                if (0xD800..<0xDC00).contains(unit) {
                    pendingHigh = unit
                } else if (0xDC00..<0xE000).contains(unit), let high = pendingHigh {
                    let value = 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00)
                    scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                    pendingHigh = nil
                } else {
                    scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                }
            default: throw fail("bad escape")
            }
            start = index
        }
        throw fail("unterminated string")
    }

    /// Skips one value of any kind and returns the byte range it occupied.
    mutating func skipValue() throws(EventFields.Malformed) -> Range<Int> {
        skipWhitespace()
        guard index < bytes.count else { throw fail("expected a value") }
        let start = index
        switch bytes[index] {
        case 0x22:
            // Skipped strings (ids, timestamps, LSNs) are not built.
            index += 1
            while index < bytes.count, bytes[index] != 0x22 { index += bytes[index] == 0x5C ? 2 : 1 }
            guard index < bytes.count else { throw fail("unterminated string") }
            index += 1
        case 0x7B, 0x5B:
            var depth = 0
            var inString = false
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if inString {
                    if byte == 0x5C { index += 1 } else if byte == 0x22 { inString = false }
                    continue
                }
                switch byte {
                case 0x22: inString = true
                case 0x7B, 0x5B: depth += 1
                case 0x7D, 0x5D:
                    depth -= 1
                    if depth == 0 { return start..<index }
                default: break
                }
            }
            throw fail("unterminated object or array")
        default:
            // A number or a literal: up to the next delimiter.
            while index < bytes.count, ![0x2C, 0x7D, 0x5D, 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            if index == start { throw fail("expected a value") }
        }
        return start..<index
    }

    mutating func expectEnd() throws(EventFields.Malformed) {
        skipWhitespace()
        if index != bytes.count { throw fail("trailing bytes after the event") }
    }
}
