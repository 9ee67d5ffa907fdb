// A value from JSONSerialization (or built like one) as our `JSON`, with
// object keys sorted so the output is stable.

import Foundation

extension JSON {
    init(foundation value: Any) {
        switch value {
        case let number as NSNumber where JSONInput.isBoolean(number): self = .bool(number.boolValue)
        case let number as NSNumber:
            if let integer = Int64(exactly: number.doubleValue), !"\(number)".contains(".") {
                self = .integer(integer)
            } else {
                self = .number(number.doubleValue)
            }
        case let bool as Bool: self = .bool(bool)
        case let string as String: self = .string(string)
        case let list as [Any]: self = .array(list.map { JSON(foundation: $0) })
        case let map as [String: Any]:
            self = .object(map.keys.sorted().map { (key: $0, value: JSON(foundation: map[$0]!)) })
        default: self = .null
        }
    }
}
