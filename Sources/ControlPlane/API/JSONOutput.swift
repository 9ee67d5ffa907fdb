// Response bodies as JSON bytes, written here instead of by JSONSerialization.
// On Linux, JSONSerialization bridges every value through NSNumber and
// NSDictionary and sorts keys with NSString.compare under a locale it creates
// for each comparison: perf showed 67% of a status request's CPU in it, and
// status is what dashboards and orchestrators poll (bench/api). This writer
// keeps the same output: keys sorted, slashes unescaped, no whitespace.

import Foundation

enum JSONOutput {
    /// The JSON text of a value built from dictionaries `[String: Any]`, arrays,
    /// strings, integers, doubles, booleans and `NSNull`.
    static func encode(_ value: Any) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(value, into: &out)
        return out
    }

    private static func write(_ value: Any, into out: inout [UInt8]) {
        switch value {
        case let string as String: writeString(string, into: &out)
        case let number as Int: out += Array(String(number).utf8)
        case let number as Int64: out += Array(String(number).utf8)
        case let number as UInt64: out += Array(String(number).utf8)
        case let number as Int32: out += Array(String(number).utf8)
        case let bool as Bool: out += Array((bool ? "true" : "false").utf8)
        // JSON has no NaN or infinities.
        case let number as Double: out += Array((number.isFinite ? "\(number)" : "null").utf8)
        case is NSNull: out += Array("null".utf8)
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(object[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            // Anything else (an NSNumber from parsed input): as JSONSerialization writes it.
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
            out += data.map { [UInt8]($0) } ?? Array("null".utf8)
        }
    }

    /// RFC 8259 §7: quotation mark, reverse solidus and control characters escaped.
    private static func writeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
