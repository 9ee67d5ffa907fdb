// JSONWriter against references that are not the writer itself: the JSON
// grammar (RFC 8259), Foundation's JSON parser and base64 encoder, the
// RFC 4648 test vectors, and Swift's own integer and UTF-8 decoding.

import Foundation
import PgOutput
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test func placesCommasAndColons() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a")
        writer.integer(1)
        writer.key("b")
        writer.beginArray()
        writer.bool(true)
        writer.bool(false)
        writer.null()
        writer.string("x")
        writer.beginArray()
        writer.endArray()
        writer.beginObject()
        writer.key("n")
        writer.rawValue("[1, 2]")
        writer.endObject()
        writer.endArray()
        writer.key("c")
        writer.beginObject()
        writer.endObject()
        writer.key("d")
        writer.rawValue(ArraySlice("{\"raw\":true}".utf8))
        writer.endObject()
        #expect(writer.jsonString == #"{"a":1,"b":[true,false,null,"x",[],{"n":[1, 2]}],"c":{},"d":{"raw":true}}"#)
    }

    @Test func topLevelValuesInSequenceAreSeparated() {
        var writer = JSONWriter()
        writer.integer(1)
        writer.string("two")
        #expect(writer.jsonString == #"1,"two""#)
    }

    @Test(arguments: [Int64.min, -1, 0, 7, 10, 1_000_000, Int64.max])
    func integers(_ value: Int64) {
        var writer = JSONWriter()
        writer.integer(value)
        #expect(writer.jsonString == String(value))
    }

    @Test func integersOfEveryWidth() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.integer(UInt64.max)
        writer.integer(Int8.min)
        writer.integer(UInt16(65535))
        writer.integer(Int32.min)
        writer.endArray()
        #expect(writer.jsonString == "[\(UInt64.max),\(Int8.min),65535,\(Int32.min)]")
    }

    @Test func escapedStringsRoundTripThroughFoundation() throws {
        let everyASCII = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)
        let samples = [everyASCII, "é ü 中文 😀", "\u{2028}\u{2029}", "", "quote \" backslash \\ slash /", "\u{7F}"]
        for sample in samples {
            var writer = JSONWriter()
            writer.beginArray()
            writer.string(sample)
            writer.string(utf8: ArraySlice(sample.utf8))
            writer.endArray()
            let parsed = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String]
            #expect(parsed == [sample, sample])
        }
    }

    /// RFC 8259 section 7 requires escaping only ", \ and U+0000–U+001F; the
    /// short forms are the ones the RFC lists, the rest \u00xx as to_json does.
    @Test func escapeForms() {
        var writer = JSONWriter()
        writer.string("\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F} \"\\/\u{7F}é")
        #expect(writer.jsonString == #""\u0000\u0001\b\t\n\f\r\u001f \"\\/"# + "\u{7F}é\"")
    }

    /// Invalid UTF-8 becomes U+FFFD the way Swift's own decoder replaces it
    /// (Unicode's maximal-subpart practice), so the output is valid JSON.
    @Test(
        arguments: [
            [0x61, 0xFF, 0x62],
            [0xC3, 0x28],
            [0xED, 0xA0, 0x80],  // a UTF-16 surrogate
            [0xF0, 0x9F, 0x98],  // a truncated 4-byte sequence
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0xC0, 0xAF],  // overlong
            [0xE2, 0x82, 0xAC, 0x80, 0xE2, 0x82],
            [0x80],
        ] as [[UInt8]])
    func invalidUTF8IsReplaced(_ bytes: [UInt8]) throws {
        var writer = JSONWriter()
        writer.string(utf8: bytes[...])
        let data = Data(writer.bytes)
        #expect(String(data: data, encoding: .utf8) != nil, "output is valid UTF-8")
        let parsed = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed) as? String
        #expect(parsed == String(decoding: bytes, as: UTF8.self))
    }

    /// RFC 4648 section 10.
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ])
    func base64TestVectors(_ input: String, _ output: String) {
        var writer = JSONWriter()
        writer.base64String(ArraySlice(input.utf8))
        #expect(writer.jsonString == "\"\(output)\"")
    }

    @Test func base64MatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in [1, 2, 3, 57, 58, 59, 1000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var writer = JSONWriter()
            writer.base64String(bytes[...])
            #expect(writer.jsonString == "\"\(Data(bytes).base64EncodedString())\"")
        }
    }

    @Test func rewindUndoesAValueAndItsComma() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.integer(1)
        let mark = writer.mark()
        writer.string("half")
        writer.rewind(to: mark)
        writer.integer(2)
        writer.endArray()
        #expect(writer.jsonString == "[1,2]")
    }

    @Test func resetKeepsCapacity() {
        var writer = JSONWriter(capacity: 4096)
        writer.string(String(repeating: "x", count: 100))
        let capacity = writer.bytes.capacity
        writer.reset()
        #expect(writer.bytes.isEmpty)
        #expect(writer.bytes.capacity == capacity)
        writer.integer(5)
        #expect(writer.jsonString == "5")

        let reused = JSONWriter(reusing: [UInt8](repeating: 1, count: 10))
        #expect(reused.bytes.isEmpty)
    }
}
