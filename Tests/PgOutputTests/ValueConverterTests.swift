// Conversions the recorded fixture cannot show: malformed text (which must
// fail and leave the writer as it was), other bytea and offset formats, array
// syntax Postgres accepts on input, and arrays converting element by element.

import Foundation
import PgOutput
import Testing

private func json(_ text: String, _ kind: ValueKind) throws -> String {
    var writer = JSONWriter()
    try ValueConverter.writeJSON(ArraySlice(text.utf8), kind: kind, into: &writer)
    return writer.jsonString
}

@Suite("ValueConverter")
struct ValueConverterTests {
    @Test(arguments: [
        ("", ValueKind.integer), ("1.5", .integer), ("-", .integer), ("01", .integer), ("1e3", .integer),
        ("abc", .float), ("nan", .float), ("1.", .float), (".5", .float), ("1e", .float), ("--1", .float),
        ("true", .bool), ("", .bool), ("tt", .bool),
        ("", .json),
        ("\\x0", .bytea), ("\\x0g", .bytea), ("a\\09", .bytea), ("\\", .bytea),
        ("2026-1-01", .date), ("26-01-01", .date), ("2026-01-01 10:00:00", .date), ("0000-01-01 BC", .date),
        ("2026-01-01", .timestamp), ("2026-01-01T10:00:00", .timestamp), ("2026-01-01 10:00", .timestamp),
        ("2026-01-01 10:00:00", .timestamptz), ("2026-01-01 10:00:00+1", .timestamptz),
        ("2026-01-01 10:00:00\"+00", .timestamptz),
        ("10:00:00", .timetz), ("10:00:00+0200", .timetz),
        ("{1,2", .array(element: .integer)), ("1,2}", .array(element: .integer)), ("{1,,2}", .array(element: .integer)),
        ("{\"a}", .array(element: .text)), ("[1:2]{1,2}", .array(element: .integer)),
        ("{1}x", .array(element: .integer)),
        ("{a\"b}", .array(element: .text)), ("{{{{{{{1}}}}}}}", .array(element: .integer)),
        ("{1.5}", .array(element: .integer)),
    ])
    func malformedTextFailsAndLeavesTheWriterAlone(_ text: String, _ kind: ValueKind) {
        var writer = JSONWriter()
        writer.beginArray()
        writer.integer(1)
        let error = #expect(throws: ValueConversionError.self) {
            try ValueConverter.writeJSON(ArraySlice(text.utf8), kind: kind, into: &writer)
        }
        #expect(error?.kind == kind)
        #expect(error?.text == Array(text.utf8))
        writer.integer(2)
        writer.endArray()
        #expect(writer.jsonString == "[1,2]")
    }

    @Test func tupleValues() throws {
        var writer = JSONWriter()
        writer.beginArray()
        try ValueConverter.writeJSON(TupleValue.null, kind: .integer, into: &writer)
        try ValueConverter.writeJSON(TupleValue.text(ArraySlice("42".utf8)), kind: .integer, into: &writer)
        writer.endArray()
        #expect(writer.jsonString == "[null,42]")
        #expect(throws: ValueConversionError.self) {
            try ValueConverter.writeJSON(TupleValue.unchangedToast, kind: .text, into: &writer)
        }
        #expect(throws: ValueConversionError.self) {
            try ValueConverter.writeJSON(TupleValue.binary([0, 0, 0, 1]), kind: .integer, into: &writer)
        }
    }

    /// bytea_output = escape (docs 8.4.2): printable bytes as is, `\\` for a
    /// backslash, `\ooo` octal for the rest.
    @Test func byteaEscapeFormat() throws {
        let bytes: [UInt8] = [0x61, 0x00, 0x5C, 0x62, 0xFF, 0x27]
        #expect(try json(#"a\000\\b\377'"#, .bytea) == "\"\(Data(bytes).base64EncodedString())\"")
        #expect(try json("", .bytea) == #""""#)
    }

    @Test func byteaHexAcceptsUpperCase() throws {
        #expect(try json(#"\xDEADbeef"#, .bytea) == "\"\(Data([0xDE, 0xAD, 0xBE, 0xEF]).base64EncodedString())\"")
    }

    /// RFC 3339 section 5.6 offsets: ±HH:MM; a zero offset of a timestamptz
    /// is Z. Offsets with seconds (local mean time before 1900) are kept.
    @Test(arguments: [
        ("2026-11-24 10:00:00+05:30", ValueKind.timestamptz, "2026-11-24T10:00:00+05:30"),
        ("2026-11-24 10:00:00.25-02", .timestamptz, "2026-11-24T10:00:00.25-02:00"),
        ("2026-11-24 10:00:00+00:00", .timestamptz, "2026-11-24T10:00:00Z"),
        ("1800-01-01 00:00:00+00:53:28", .timestamptz, "1800-01-01T00:00:00+00:53:28"),
        ("1800-01-01 00:00:00-00:01:15 BC", .timestamptz, "-1799-01-01T00:00:00-00:01:15"),
        ("12345-01-01 00:00:00+00", .timestamptz, "12345-01-01T00:00:00Z"),
        ("10000-01-01 BC", .date, "-9999-01-01"),
        ("0010-01-01 BC", .date, "-0009-01-01"),
        ("00:00:00-00", .timetz, "00:00:00-00:00"),
    ])
    func dateTimeForms(_ text: String, _ kind: ValueKind, _ expected: String) throws {
        #expect(try json(text, kind) == "\"\(expected)\"")
    }

    /// An array converts exactly like its elements one by one.
    @Test(arguments: [
        (ValueKind.date, ["0044-03-15 BC", "2026-01-01", "infinity"]),
        (.timestamptz, ["0001-01-01 00:00:00+00 BC", "2026-01-01 10:00:00+02"]),
        (.timetz, ["10:00:00+02", "11:00:00.5-03:30"]),
        (.bytea, [#"\x"#, #"\x00ff"#]),
        (.float, ["NaN", "1.5", "-Infinity", "1e+30"]),
        (.numeric, ["1.50", "NaN"]),
        (.bool, ["t", "f"]),
        (.interval, ["P1D", "PT-0.5S"]),
    ])
    func arraysConvertElementByElement(_ element: ValueKind, _ values: [String]) throws {
        let quoted = values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\") + "\"" }
        let arrayText = "{" + quoted.joined(separator: ",") + ",NULL}"
        let elements = try values.map { try json($0, element) } + ["null"]
        #expect(try json(arrayText, .array(element: element)) == "[" + elements.joined(separator: ",") + "]")
    }

    /// Input syntax array_in accepts (docs 8.15.6) though array_out never
    /// prints it: white space around elements, escapes in unquoted elements.
    @Test(arguments: [
        (" { 1 , 2 } ", ValueKind.integer, "[1,2]"),
        ("{ {1, 2}, {3,4} }", .integer, "[[1,2],[3,4]]"),
        (#"{a\,b,c\"d, e f }"#, .text, #"["a,b","c\"d","e f"]"#),
        ("{null,NuLl,\"null\",nulls}", .text, #"[null,null,"null","nulls"]"#),
        ("[1:1][0:1]={{a,b}}", .text, #"[["a","b"]]"#),
        ("{\"\"}", .text, #"[""]"#),
        ("{}", .json, "[]"),
        ("{{}}", .integer, "[[]]"),
    ])
    func arrayInputSyntax(_ text: String, _ element: ValueKind, _ expected: String) throws {
        #expect(try json(text, .array(element: element)) == expected)
    }

    @Test func boxArraysUseSemicolons() throws {
        let kind = try #require(ValueKind.builtin(oid: 1020))
        #expect(try json("{(1,1),(0,0);(3,3),(2,2)}", kind) == #"["(1,1),(0,0)","(3,3),(2,2)"]"#)
        #expect(
            try json("{(1,1),(0,0);(3,3),(2,2)}", .array(element: .other))
                == #"["(1","1)","(0","0);(3","3)","(2","2)"]"#)
    }

    @Test func jsonWriterValueShortcut() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("n")
        try writer.value(ArraySlice("12345678901234567890.000000001".utf8), kind: .numeric)
        writer.endObject()
        #expect(writer.jsonString == #"{"n":"12345678901234567890.000000001"}"#)
    }
}
