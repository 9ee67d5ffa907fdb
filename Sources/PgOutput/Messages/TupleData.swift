// TupleData: the column values of one row inside Insert, Update and Delete.
// Protocol page, "TupleData": Int16 column count, then per column a kind byte:
// 'n' null, 'u' unchanged TOASTed value (not sent), 't' text or 'b' binary,
// the last two followed by Int32 length and the value's bytes.
//
// This is the hot path (one per change), so values are slices of the message
// buffer: no copy and no String per column.

import PostgresWire

/// One column value as pgoutput sends it.
public enum TupleValue: Sendable, Equatable {
    case null
    /// A TOASTed value the update did not change; Postgres does not send it.
    case unchangedToast
    /// The value in the type's text output format (what we ask for).
    case text(ArraySlice<UInt8>)
    /// The value in the type's binary format (only with `binary 'true'`).
    case binary(ArraySlice<UInt8>)
}

/// A row's column values, in the order of the relation's columns.
public struct TupleData: Sendable, Equatable {
    /// One value per column of the relation, in its column order.
    public var columns: [TupleValue]

    public init(columns: [TupleValue]) {
        self.columns = columns
    }

    /// The TupleData at the reader's position.
    static func read(from reader: inout ByteReader) throws(PgOutputError.Reason) -> TupleData {
        // Each column takes at least its kind byte.
        let count = try reader.count16(of: "tuple column", minimumSize: 1)
        var columns: [TupleValue] = []
        columns.reserveCapacity(count)
        for _ in 0..<count {
            let kind = try reader.uint8()
            switch kind {
            case 0x6E:  // 'n'
                columns.append(.null)
            case 0x75:  // 'u'
                columns.append(.unchangedToast)
            case 0x74, 0x62:  // 't', 'b'
                let length = Int(try reader.int32())
                guard length >= 0 else { throw .malformed("column value length \(length)") }
                let value = try reader.slice(length)
                columns.append(kind == 0x74 ? .text(value) : .binary(value))
            default:
                throw .malformed("tuple column kind 0x\(String(kind, radix: 16))")
            }
        }
        return TupleData(columns: columns)
    }
}
