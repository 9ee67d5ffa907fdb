// COPY text lines split into fields without copying them: NULLs, escapes
// undone, and lines of the wrong width refused.

import PgOutput
import Testing

@testable import CDC

@Suite struct CopyTextFieldsTests {
    /// The fields of `line` from `offset`, nil for NULL.
    static func fields(_ line: String, from offset: Int = 0, columns: Int) throws -> [String?] {
        var splitter = CopyTextFields()
        let bytes = Array(line.utf8)
        return try bytes.withUnsafeBytes { raw in
            try splitter.withRow(raw, from: offset, columns: columns) { row in
                (0..<row.count).map { row[$0].map { String(decoding: $0, as: UTF8.self) } }
            }
        }
    }

    @Test func plainFieldsNullsAndTheTrailingNewline() throws {
        #expect(try Self.fields("1\tabc\t\\N\t\n", columns: 4) == ["1", "abc", nil, ""])
        #expect(try Self.fields("(0,1)\tx\ty\n", from: 6, columns: 2) == ["x", "y"])
    }

    @Test func escapesAreUndone() throws {
        let line = #"a\tb\nc\\d\N"# + "\t" + #"\101\x42\x4a\b\f\r\v\z"# + "\t" + #"\N"#
        #expect(try Self.fields(line, columns: 3) == ["a\tb\nc\\dN", "ABJ\u{8}\u{c}\r\u{b}z", nil])
    }

    @Test func aRowOfTheWrongWidthIsRefused() throws {
        #expect(throws: CopyTextFields.Failure.self) { try Self.fields("1\t2\n", columns: 3) }
        #expect(throws: CopyTextFields.Failure.self) { try Self.fields("1\t2\t3\n", columns: 2) }
    }

    @Test func aRowKeptBeyondItsLineOwnsItsBytes() throws {
        var splitter = CopyTextFields()
        var bytes = Array("k\\tey\t\\N\tv\n".utf8)
        let tuple = try bytes.withUnsafeBytes { raw in
            try splitter.withRow(raw, from: 0, columns: 3) { $0.tuple() }
        }
        bytes.removeAll()
        #expect(tuple == TupleData(columns: [.text(ArraySlice("k\tey".utf8)), .null, .text(ArraySlice("v".utf8))]))
    }
}
