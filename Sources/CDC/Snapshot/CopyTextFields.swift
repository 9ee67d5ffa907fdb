// One row of COPY text format (https://www.postgresql.org/docs/current/sql-copy.html,
// "Text Format"): fields separated by tabs, `\N` for NULL, backslash escapes
// for the delimiter, newline and backslash themselves. Each field's content is
// the type's text output, exactly what pgoutput sends, so the same value
// conversion applies to both.
//
// The snapshot encodes straight from libpq's line: fields are ranges of
// it, and only a field with escapes is copied (unescaped) aside. Building a
// TupleData per row instead (a copy of the line, an array of ArraySlices)
// cost a third of the load workers' CPU in allocation and reference counting
// (bench/snapshot profile).

import PgOutput

/// Splits COPY text lines into fields; one per reader, reused for every line.
struct CopyTextFields {
    enum Failure: Error, CustomStringConvertible {
        case fieldCount(expected: Int, found: Int)
        case badTID

        var description: String {
            switch self {
            case .fieldCount(let expected, let found): "COPY row has \(found) fields, expected \(expected)"
            case .badTID: "COPY row does not start with a ctid"
            }
        }
    }

    /// Where one field's text is.
    enum Field {
        case null
        /// Bytes of the line, as they are.
        case line(Range<Int>)
        /// Bytes of `unescaped`.
        case unescaped(Range<Int>)
    }

    private var fields: [Field] = []
    private var unescaped: [UInt8] = []

    /// Splits `line` from byte `offset` on into exactly `columns` fields and
    /// calls `body` with them. The row is valid only inside `body`.
    mutating func withRow<R>(
        _ line: UnsafeRawBufferPointer, from offset: Int, columns: Int, _ body: (CopyRow) throws -> R
    ) throws -> R {
        let bytes = line.assumingMemoryBound(to: UInt8.self)
        try split(bytes, from: offset, columns: columns)
        return try fields.withUnsafeBufferPointer { fields in
            try unescaped.withUnsafeBufferPointer { unescaped in
                try body(CopyRow(line: bytes, unescaped: unescaped, fields: fields))
            }
        }
    }

    private mutating func split(_ line: UnsafeBufferPointer<UInt8>, from offset: Int, columns: Int) throws {
        fields.removeAll(keepingCapacity: true)
        unescaped.removeAll(keepingCapacity: true)
        var end = line.count
        if end > offset && line[end - 1] == 0x0A { end -= 1 }
        var start = offset
        while true {
            var stop = start
            var escaped = false
            while stop < end && line[stop] != 0x09 {
                if line[stop] == 0x5C { escaped = true }
                stop += 1
            }
            fields.append(escaped ? unescape(line, start, stop) : .line(start..<stop))
            if stop >= end { break }
            start = stop + 1
        }
        guard fields.count == columns else { throw Failure.fieldCount(expected: columns, found: fields.count) }
    }

    /// A field with backslashes: `\N` (NULL) or escapes to undo.
    private mutating func unescape(_ line: UnsafeBufferPointer<UInt8>, _ start: Int, _ stop: Int) -> Field {
        if stop - start == 2 && line[start] == 0x5C && line[start + 1] == 0x4E { return .null }  // \N
        let first = unescaped.count
        var index = start
        while index < stop {
            let byte = line[index]
            guard byte == 0x5C, index + 1 < stop else {
                unescaped.append(byte)
                index += 1
                continue
            }
            let next = line[index + 1]
            index += 2
            switch next {
            case UInt8(ascii: "b"): unescaped.append(0x08)
            case UInt8(ascii: "f"): unescaped.append(0x0C)
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "r"): unescaped.append(0x0D)
            case UInt8(ascii: "t"): unescaped.append(0x09)
            case UInt8(ascii: "v"): unescaped.append(0x0B)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                // Up to three octal digits.
                var value = Int(next - 0x30)
                var digits = 1
                while digits < 3, index < stop, (0x30...0x37).contains(line[index]) {
                    value = value * 8 + Int(line[index] - 0x30)
                    index += 1
                    digits += 1
                }
                unescaped.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x"):
                // Up to two hex digits.
                var value = 0
                var digits = 0
                while digits < 2, index < stop, let digit = Self.hexValue(line[index]) {
                    value = value * 16 + digit
                    index += 1
                    digits += 1
                }
                unescaped.append(digits == 0 ? next : UInt8(value))
            default:
                unescaped.append(next)  // \\ and any other escaped character stand for themselves
            }
        }
        return .unescaped(first..<unescaped.count)
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}

/// The fields of one COPY line, borrowed from the line being read.
struct CopyRow {
    let line: UnsafeBufferPointer<UInt8>
    let unescaped: UnsafeBufferPointer<UInt8>
    let fields: UnsafeBufferPointer<CopyTextFields.Field>

    var count: Int { fields.count }

    /// Field `index`'s text, nil for NULL.
    subscript(index: Int) -> TextBytes? {
        switch fields[index] {
        case .null: nil
        case .line(let range): line[range]
        case .unescaped(let range): unescaped[range]
        }
    }

    /// The row as tuple values that own their bytes, for rows kept beyond
    /// the line (a resumed load's window).
    func tuple() -> TupleData {
        TupleData(columns: (0..<count).map { index in self[index].map { .text(ArraySlice($0)) } ?? .null })
    }
}
