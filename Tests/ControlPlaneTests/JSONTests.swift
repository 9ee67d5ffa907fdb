// The API's JSON writer: the text it produces for each kind of value.

import Foundation
import Testing

@testable import ControlPlane

@Suite struct JSONTests {
    private func text(_ value: JSON) -> String { String(decoding: value.bytes, as: UTF8.self) }

    @Test func keysSortedNoWhitespaceSlashesAsThey() {
        let value: JSON = ["b": 1, "a": ["x/y", JSON.null, true] as JSON, "c": ["z": 2.5] as JSON]
        #expect(text(value) == #"{"a":["x/y",null,true],"b":1,"c":{"z":2.5}}"#)
    }

    @Test func stringsAreEscaped() {
        let value = JSON.string("q\"b\\n\nr\rt\t\u{01}é")
        #expect(text(value) == #""q\"b\\n\nr\rt\t\u0001é""#)
        // What we write, Foundation reads back as the same string.
        let parsed = try? JSONSerialization.jsonObject(with: Data(value.bytes), options: .fragmentsAllowed) as? String
        #expect(parsed == "q\"b\\n\nr\rt\t\u{01}é")
    }

    @Test func numbers() {
        #expect(
            text([Int64.min.json, UInt64.max.json, 0.004.json, Double.nan.json, Double.infinity.json])
                == "[-9223372036854775808,18446744073709551615,0.004,null,null]")
        let absent: String? = nil
        #expect(text(["none": absent]) == #"{"none":null}"#)
    }
}
