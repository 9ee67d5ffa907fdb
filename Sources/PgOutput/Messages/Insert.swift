// Insert ('I'). Protocol page, "Insert": [Int32 xid], Int32 relation OID,
// Byte1 'N', TupleData of the new row.

import PostgresWire

/// A row inserted into a table.
public struct Insert: Sendable, Equatable {
    /// The streamed transaction, inside a Stream Start … Stop block; else nil.
    public var xid: UInt32?
    public var relationOID: UInt32
    public var newTuple: TupleData

    public init(xid: UInt32? = nil, relationOID: UInt32, newTuple: TupleData) {
        self.xid = xid
        self.relationOID = relationOID
        self.newTuple = newTuple
    }

    /// Decodes the fields after the type byte; `hasXid` inside a streamed block.
    public static func decode(from reader: inout ByteReader, hasXid: Bool) throws(PgOutputError) -> Insert {
        try reader.payload(.insert) { r throws(PgOutputError.Reason) in
            Insert(
                xid: try r.streamedXid(hasXid), relationOID: try r.uint32(), newTuple: try OldTuple.readNew(from: &r))
        }
    }
}
