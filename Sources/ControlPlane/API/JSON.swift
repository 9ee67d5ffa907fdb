// The JSON the API answers with: a typed value the representations build,
// written through `JSONWriter`, the event encoder's writer. JSONSerialization
// did this before; on Linux it bridges every value through NSNumber and NSDictionary and sorts keys with
// NSString.compare under a locale it creates per comparison, which perf put
// at 67% of a status request's CPU (bench/api); a `[String: Any]` walked with
// `as?` casts still spent half of it in dynamic casts. Output is unchanged:
// keys sorted, slashes unescaped, no whitespace.

import JSONText

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
        var writer = JSONWriter(capacity: 512)
        write(into: &writer)
        return writer.bytes
    }

    private func write(into writer: inout JSONWriter) {
        switch self {
        case .null: writer.null()
        case .bool(let value): writer.bool(value)
        case .integer(let value): writer.integer(value)
        case .unsigned(let value): writer.integer(value)
        // JSON has no NaN or infinities.
        case .number(let value): if value.isFinite { writer.rawValue("\(value)") } else { writer.null() }
        case .string(let value): writer.string(value)
        case .array(let elements):
            writer.beginArray()
            for element in elements { element.write(into: &writer) }
            writer.endArray()
        case .object(let members):
            writer.beginObject()
            for member in members.sorted(by: { $0.key < $1.key }) {
                writer.key(member.key)
                member.value.write(into: &writer)
            }
            writer.endObject()
        }
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
