// The old row image in Update and Delete, marked by the byte before it.
// Protocol page, "Update"/"Delete": 'K' for the old key (replica identity
// default or index, sent only when the key changed or for deletes), 'O' for
// the whole old row (replica identity full).

import PostgresWire

/// The before image of an updated or deleted row.
public enum OldTuple: Sendable, Equatable {
    /// 'K': the replica identity key columns; the others are null.
    case key(TupleData)
    /// 'O': the whole old row (`REPLICA IDENTITY FULL`).
    case full(TupleData)

    /// The row image, whichever kind it is.
    public var tuple: TupleData {
        switch self {
        case .key(let tuple), .full(let tuple): tuple
        }
    }

    static let keyMarker: UInt8 = 0x4B  // 'K'
    static let fullMarker: UInt8 = 0x4F  // 'O'
    static let newMarker: UInt8 = 0x4E  // 'N'

    /// The tuple after `marker`, which must be 'K' or 'O'.
    static func read(marker: UInt8, from reader: inout ByteReader) throws(PgOutputError.Reason) -> OldTuple {
        switch marker {
        case keyMarker: .key(try TupleData.read(from: &reader))
        case fullMarker: .full(try TupleData.read(from: &reader))
        default: throw .malformed("expected old tuple marker 'K' or 'O', got 0x\(String(marker, radix: 16))")
        }
    }

    /// Reads the 'N' marker and the new tuple after it.
    static func readNew(from reader: inout ByteReader, marker: UInt8? = nil) throws(PgOutputError.Reason) -> TupleData {
        let byte = if let marker { marker } else { try reader.uint8() }
        guard byte == newMarker else {
            throw .malformed("expected new tuple marker 'N', got 0x\(String(byte, radix: 16))")
        }
        return try TupleData.read(from: &reader)
    }
}
