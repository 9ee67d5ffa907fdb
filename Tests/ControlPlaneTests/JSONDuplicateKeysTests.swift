// The duplicate-name check of request bodies, on valid JSON as JSONSerialization
// has accepted it.

import Testing

@testable import ControlPlane

@Suite struct JSONDuplicateKeysTests {
    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "a"),
        (#"{"a":1,"\u0061":2}"#, "a"),
        (#"{"x":[{"k":1,"k":2}]}"#, "k"),
        (#"{"\ud83d\ude00":1,"😀":2}"#, "😀"),
        (#"{"a\"b":1, "a\"b" : 2}"#, #"a"b"#),
        (#"{"a":{"b":1},"c":[],"a":null}"#, "a"),
    ])
    func duplicateIsFound(_ json: String, _ key: String) {
        #expect(JSONDuplicateKeys.first(in: Array(json.utf8)) == key)
    }

    @Test(arguments: [
        #"{"a":{"a":1}}"#,
        #"[{"a":1},{"a":1}]"#,
        #"{"a":"b","b":"a"}"#,
        #"{"a":["a","a"],"b":{"c":"}","d":"{"}}"#,
        #"{"A":1,"a":2}"#,
        #"{}"#,
        #""a""#,
    ])
    func distinctNamesPass(_ json: String) {
        #expect(JSONDuplicateKeys.first(in: Array(json.utf8)) == nil)
    }
}
