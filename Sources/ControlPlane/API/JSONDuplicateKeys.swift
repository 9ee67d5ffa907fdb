// RFC 8259 §4: names within an object SHOULD be unique, and with duplicates
// "many implementations report the last name/value pair only" — which is what
// JSONSerialization does, silently. A body that says `"name":"a","name":"b"`
// is ambiguous (a proxy or a validator in front may have read the first), so
// it is refused rather than guessed at. JSONSerialization has already accepted
// the body when this runs, so the bytes are valid JSON.

enum JSONDuplicateKeys {
    private enum Container {
        case object(keys: Set<String>, expectsKey: Bool)
        case array
    }

    /// The first name that appears twice in one object, or nil. An explicit stack,
    /// not recursion, so deep nesting costs memory, never the thread's stack.
    static func first(in bytes: [UInt8]) -> String? {
        var stack: [Container] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"): stack.append(.object(keys: [], expectsKey: true))
            case UInt8(ascii: "["): stack.append(.array)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                if case .object(let keys, _) = stack.last {
                    stack[stack.count - 1] = .object(keys: keys, expectsKey: true)
                }
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if case .object(var keys, true) = stack.last {
                    let key = name(bytes[start...min(index, bytes.count - 1)])
                    if !keys.insert(key).inserted { return key }
                    stack[stack.count - 1] = .object(keys: keys, expectsKey: false)
                }
            default: break
            }
            index += 1
        }
        return nil
    }

    /// The decoded name, so `"a"` and `"\u0061"` are the same key.
    private static func name(_ quoted: ArraySlice<UInt8>) -> String {
        let inner = quoted.dropFirst().dropLast()
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        var text = ""
        var index = inner.startIndex
        var pendingHigh: UInt32?
        while index < inner.endIndex {
            let byte = inner[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < inner.endIndex else {
                let end = inner[index...].firstIndex(of: UInt8(ascii: "\\")) ?? inner.endIndex
                text += String(decoding: inner[index..<end], as: UTF8.self)
                index = end
                continue
            }
            let escape = inner[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "u"):
                let digits = inner[index..<min(index + 4, inner.endIndex)]
                index += digits.count
                guard let unit = UInt32(String(decoding: digits, as: UTF8.self), radix: 16) else { continue }
                if (0xD800...0xDBFF).contains(unit) {
                    pendingHigh = unit
                    continue
                }
                if let high = pendingHigh, (0xDC00...0xDFFF).contains(unit) {
                    text.unicodeScalars.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))!)
                } else {
                    text.unicodeScalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                }
            case UInt8(ascii: "b"): text += "\u{8}"
            case UInt8(ascii: "f"): text += "\u{C}"
            case UInt8(ascii: "n"): text += "\n"
            case UInt8(ascii: "r"): text += "\r"
            case UInt8(ascii: "t"): text += "\t"
            default: text.unicodeScalars.append(Unicode.Scalar(escape))
            }
            pendingHigh = nil
        }
        return text
    }
}
