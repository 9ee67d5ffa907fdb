// Delete ('D'). Protocol page, "Delete": [Int32 xid], Int32 relation OID,
// 'K' with the old key or 'O' with the old row.

import PostgresWire

/// A row deleted from a table.
public struct Delete: Sendable, Equatable {
    /// The streamed transaction, inside a Stream Start … Stop block; else nil.
    public var xid: UInt32?
    public var relationOID: UInt32
    public var oldTuple: OldTuple

    public init(xid: UInt32? = nil, relationOID: UInt32, oldTuple: OldTuple) {
        self.xid = xid
        self.relationOID = relationOID
        self.oldTuple = oldTuple
    }

    /// Decodes the fields after the type byte; `hasXid` inside a streamed block.
    public static func decode(from reader: inout ByteReader, hasXid: Bool) throws(PgOutputError) -> Delete {
        try reader.payload(.delete) { r throws(PgOutputError.Reason) in
            let xid = try r.streamedXid(hasXid)
            let relationOID = try r.uint32()
            let old = try OldTuple.read(marker: try r.uint8(), from: &r)
            return Delete(xid: xid, relationOID: relationOID, oldTuple: old)
        }
    }
}
