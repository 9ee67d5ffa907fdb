// Stream Start ('S', protocol version 2+): opens a block of changes of a
// large transaction sent before it commits. Until Stream Stop, data messages
// carry the transaction's xid. Protocol page, "Stream Start": Int32 xid,
// Int8 1 if this is the transaction's first block, else 0.

import PostgresWire

/// The start of a block of a streamed (in-progress) transaction.
public struct StreamStart: Sendable, Equatable {
    public var xid: UInt32
    public var isFirstSegment: Bool

    public init(xid: UInt32, isFirstSegment: Bool) {
        self.xid = xid
        self.isFirstSegment = isFirstSegment
    }

    /// Decodes the fields after the type byte.
    public static func decode(from reader: inout ByteReader) throws(PgOutputError) -> StreamStart {
        try reader.payload(.streamStart) { r throws(PgOutputError.Reason) in
            let xid = try r.uint32()
            let first = try r.uint8()
            guard first <= 1 else { throw .malformed("first-segment flag \(first)") }
            return StreamStart(xid: xid, isFirstSegment: first == 1)
        }
    }
}
