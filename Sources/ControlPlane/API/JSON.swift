// The JSON the API answers with: a typed value the representations build,
// and its text, written here. JSONSerialization did this before; on Linux it
// bridges every value through NSNumber and NSDictionary and sorts keys with
// NSString.compare under a locale it creates per comparison, which perf put
// at 67% of a status request's CPU (bench/api); a `[String: Any]` walked with
// `as?` casts still spent half of it in dynamic casts. Output is unchanged:
// keys sorted, slashes unescaped, no whitespace.

/// A JSON value.
enum JSON: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case array([JSON])
    /// Members in any order; written sorted by key. An array rather than a
    /// dictionary: objects are built once and written once, so hashing every
    /// key would be wasted work.
    case object([(key: String, value: JSON)])

    /// The JSON text, UTF-8.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(into: &out)
        return out
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .integer(let value): out += String(value).utf8
        case .unsigned(let value): out += String(value).utf8
        // JSON has no NaN or infinities.
        case .number(let value): out += (value.isFinite ? "\(value)" : "null").utf8
        case .string(let value): Self.write(value, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 8259 §7: quotation mark, reverse solidus and control characters escaped.
    private static func write(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (keys, ids, states) need no escape: copy them whole.
        guard string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out += string.utf8
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case UInt8(ascii: "\n"): out += #"\n"#.utf8
            case UInt8(ascii: "\r"): out += #"\r"#.utf8
            case UInt8(ascii: "\t"): out += #"\t"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out += [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A value that has a JSON form; lets representations be written as
/// dictionary literals of plain Swift values (`["id": record.id, "port": record.port]`).
protocol JSONRepresentable {
    var json: JSON { get }
}

extension JSON: JSONRepresentable {
    var json: JSON { self }
}

extension String: JSONRepresentable {
    var json: JSON { .string(self) }
}

extension Bool: JSONRepresentable {
    var json: JSON { .bool(self) }
}

extension Int: JSONRepresentable {
    var json: JSON { .integer(Int64(self)) }
}

extension Int64: JSONRepresentable {
    var json: JSON { .integer(self) }
}

extension UInt64: JSONRepresentable {
    var json: JSON { .unsigned(self) }
}

extension Double: JSONRepresentable {
    var json: JSON { .number(self) }
}

extension Optional: JSONRepresentable where Wrapped: JSONRepresentable {
    /// `null` when absent.
    var json: JSON { map { $0.json } ?? .null }
}

extension Array: JSONRepresentable where Element: JSONRepresentable {
    var json: JSON { .array(map { $0.json }) }
}

extension Dictionary: JSONRepresentable where Key == String, Value: JSONRepresentable {
    var json: JSON { .object(map { (key: $0.key, value: $0.value.json) }) }
}

extension JSON: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (String, any JSONRepresentable)...) {
        self = .object(elements.map { (key: $0, value: $1.json) })
    }
}

extension JSON: ExpressibleByArrayLiteral {
    init(arrayLiteral elements: any JSONRepresentable...) {
        self = .array(elements.map { $0.json })
    }
}

extension JSON: ExpressibleByStringLiteral {
    init(stringLiteral value: String) { self = .string(value) }
}

extension JSON: ExpressibleByIntegerLiteral {
    init(integerLiteral value: Int64) { self = .integer(value) }
}

extension JSON: ExpressibleByBooleanLiteral {
    init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSON: ExpressibleByNilLiteral {
    init(nilLiteral: ()) { self = .null }
}
