// One row of COPY text format (https://www.postgresql.org/docs/current/sql-copy.html,
// "Text Format"): fields separated by tabs, `\N` for NULL, backslash escapes
// for the delimiter, newline and backslash themselves. Each field's content is
// the type's text output, exactly what pgoutput sends, so the same value
// conversion applies to both.

import PgOutput

enum CopyTextRow {
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

    /// The fields of one line, as the tuple values the encoder takes.
    static func parse(_ line: UnsafeRawBufferPointer, columns: Int) throws -> TupleData {
        try parse(line, from: 0, columns: columns)
    }

    /// The fields of a line from byte `offset` on. The line is copied once;
    /// a field without escapes is a slice of that copy, so a row costs two
    /// allocations rather than one per column.
    static func parse(_ line: UnsafeRawBufferPointer, from offset: Int, columns: Int) throws -> TupleData {
        var end = line.count
        if end > offset && line[end - 1] == 0x0A { end -= 1 }
        let copy = Array(line[offset..<end])
        var values: [TupleValue] = []
        values.reserveCapacity(columns)
        var start = 0
        while true {
            var stop = start
            var escaped = false
            while stop < copy.count && copy[stop] != 0x09 {
                if copy[stop] == 0x5C { escaped = true }
                stop += 1
            }
            values.append(escaped ? field(copy, start, stop) : .text(copy[start..<stop]))
            if stop >= copy.count { break }
            start = stop + 1
        }
        guard values.count == columns else { throw Failure.fieldCount(expected: columns, found: values.count) }
        return TupleData(columns: values)
    }

    /// A field with backslashes: `\N` (NULL) or escapes to undo.
    private static func field(_ line: [UInt8], _ start: Int, _ stop: Int) -> TupleValue {
        if stop - start == 2 && line[start] == 0x5C && line[start + 1] == 0x4E { return .null }  // \N
        var bytes: [UInt8] = []
        bytes.reserveCapacity(stop - start)
        var index = start
        while index < stop {
            let byte = line[index]
            guard byte == 0x5C, index + 1 < stop else {
                bytes.append(byte)
                index += 1
                continue
            }
            let next = line[index + 1]
            index += 2
            switch next {
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "v"): bytes.append(0x0B)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                // Up to three octal digits.
                var value = Int(next - 0x30)
                var digits = 1
                while digits < 3, index < stop, (0x30...0x37).contains(line[index]) {
                    value = value * 8 + Int(line[index] - 0x30)
                    index += 1
                    digits += 1
                }
                bytes.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x"):
                // Up to two hex digits.
                var value = 0
                var digits = 0
                while digits < 2, index < stop, let digit = hexValue(line[index]) {
                    value = value * 16 + digit
                    index += 1
                    digits += 1
                }
                if digits == 0 { bytes.append(next) } else { bytes.append(UInt8(value)) }
            default:
                bytes.append(next)  // \\ and any other escaped character stand for themselves
            }
        }
        return .text(bytes[...])
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
