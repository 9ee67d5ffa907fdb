// Update ('U'). Protocol page, "Update": [Int32 xid], Int32 relation OID, an
// optional 'K' or 'O' with the old key or old row, then 'N' and the new row.
// Unchanged TOASTed values appear as 'u' in the new row.

import PostgresWire

/// A row updated in a table.
public struct Update: Sendable, Equatable {
    /// The streamed transaction, inside a Stream Start … Stop block; else nil.
    public var xid: UInt32?
    public var relationOID: UInt32
    /// The before image: the whole row with `REPLICA IDENTITY FULL`, the key
    /// when the key changed, nil when not sent.
    public var oldTuple: OldTuple?
    public var newTuple: TupleData

    public init(xid: UInt32? = nil, relationOID: UInt32, oldTuple: OldTuple?, newTuple: TupleData) {
        self.xid = xid
        self.relationOID = relationOID
        self.oldTuple = oldTuple
        self.newTuple = newTuple
    }

    /// Decodes the fields after the type byte; `hasXid` inside a streamed block.
    public static func decode(from reader: inout ByteReader, hasXid: Bool) throws(PgOutputError) -> Update {
        try reader.payload(.update) { r throws(PgOutputError.Reason) in
            let xid = try r.streamedXid(hasXid)
            let relationOID = try r.uint32()
            let marker = try r.uint8()
            if marker == OldTuple.newMarker {
                return Update(
                    xid: xid, relationOID: relationOID, oldTuple: nil,
                    newTuple: try OldTuple.readNew(from: &r, marker: marker))
            }
            let old = try OldTuple.read(marker: marker, from: &r)
            return Update(xid: xid, relationOID: relationOID, oldTuple: old, newTuple: try OldTuple.readNew(from: &r))
        }
    }
}
