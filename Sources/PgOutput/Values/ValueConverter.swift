// Column values from Postgres text output to JSON (DESIGN section 5).
//
// pgoutput sends values in each type's text output format, printed with the
// session settings the replication connection sets: DateStyle ISO, YMD;
// IntervalStyle iso_8601; TimeZone UTC; extra_float_digits 3; bytea_output
// hex. The conversions below rely on those formats and do no Foundation
// parsing or formatting: they read and write bytes.

/// Writes column values as JSON according to their `ValueKind`.
public enum ValueConverter {
    /// Writes the value whose text output is `text` as one JSON value.
    /// On error nothing is left in `writer` (it is rewound), so the caller may
    /// fall back, e.g. to `writer.string(utf8: text)`.
    public static func writeJSON(
        _ text: TextBytes, kind: ValueKind, into writer: inout JSONWriter
    ) throws(ValueConversionError) {
        let mark = writer.mark()
        do {
            try write(text, kind: kind, into: &writer)
        } catch {
            writer.rewind(to: mark)
            throw error
        }
    }

    /// Writes the value whose text output is `text`; see the `TextBytes` form.
    public static func writeJSON(
        _ text: ArraySlice<UInt8>, kind: ValueKind, into writer: inout JSONWriter
    ) throws(ValueConversionError) {
        try text.withUnsafeBufferPointer { (buffer) throws(ValueConversionError) in
            try writeJSON(buffer[...], kind: kind, into: &writer)
        }
    }

    /// Writes a tuple column: null as null, text converted by `kind`.
    /// An unchanged TOASTed value has no value to write (the caller fills it
    /// from the old row or lists it as unchanged), and binary values are not
    /// requested, so both are errors here.
    public static func writeJSON(
        _ value: TupleValue, kind: ValueKind, into writer: inout JSONWriter
    ) throws(ValueConversionError) {
        switch value {
        case .null: writer.null()
        case .text(let text): try writeJSON(text, kind: kind, into: &writer)
        case .unchangedToast:
            throw ValueConversionError(kind: kind, text: [], reason: "unchanged TOASTed value has no content")
        case .binary(let bytes):
            throw ValueConversionError(kind: kind, text: bytes, reason: "binary format values are not supported")
        }
    }

    static func write(_ text: TextBytes, kind: ValueKind, into writer: inout JSONWriter) throws(ValueConversionError) {
        switch kind {
        case .bool:
            guard text.count == 1, text.first == UInt8(ascii: "t") || text.first == UInt8(ascii: "f") else {
                throw ValueConversionError(kind: kind, text: text, reason: "expected t or f")
            }
            writer.bool(text.first == UInt8(ascii: "t"))
        case .integer:
            guard JSONNumber.isInteger(text) else {
                throw ValueConversionError(kind: kind, text: text, reason: "not an integer")
            }
            writer.rawValue(text)
        case .float:
            if JSONNumber.isValid(text) {
                writer.rawValue(text)
            } else if JSONNumber.isNonFiniteFloat(text) {
                writer.string(utf8: text)
            } else {
                throw ValueConversionError(kind: kind, text: text, reason: "not a number")
            }
        case .numeric, .text, .other, .time, .interval:
            writer.string(utf8: text)
        case .json:
            guard !text.isEmpty else { throw ValueConversionError(kind: kind, text: text, reason: "empty JSON") }
            writer.rawValue(text)
        case .bytea:
            try writeBytea(text, into: &writer)
        case .date, .timestamp, .timestamptz:
            try writeDateTime(text, kind: kind, into: &writer)
        case .timetz:
            try writeTimeWithZone(text, into: &writer)
        case .array(let element, let delimiter):
            var parser = ArrayTextParser(text: text, element: element, delimiter: delimiter, kind: kind)
            try parser.parse(into: &writer)
        }
    }
}

extension JSONWriter {
    /// Writes a column value's text as JSON by `kind`; see `ValueConverter.writeJSON`.
    public mutating func value(_ text: ArraySlice<UInt8>, kind: ValueKind) throws(ValueConversionError) {
        try ValueConverter.writeJSON(text, kind: kind, into: &self)
    }
}
