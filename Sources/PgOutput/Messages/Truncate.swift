// Truncate ('T'). Protocol page, "Truncate": [Int32 xid], Int32 relation
// count, Int8 options (1 = CASCADE, 2 = RESTART IDENTITY), Int32 OID each.

import PostgresWire

/// One TRUNCATE statement, possibly of several tables.
public struct Truncate: Sendable, Equatable {
    /// The streamed transaction, inside a Stream Start … Stop block; else nil.
    public var xid: UInt32?
    public var cascade: Bool
    public var restartIdentity: Bool
    public var relationOIDs: [UInt32]

    public init(xid: UInt32? = nil, cascade: Bool, restartIdentity: Bool, relationOIDs: [UInt32]) {
        self.xid = xid
        self.cascade = cascade
        self.restartIdentity = restartIdentity
        self.relationOIDs = relationOIDs
    }

    static let cascadeFlag: UInt8 = 1
    static let restartIdentityFlag: UInt8 = 2

    /// Decodes the fields after the type byte; `hasXid` inside a streamed block.
    public static func decode(from reader: inout ByteReader, hasXid: Bool) throws(PgOutputError) -> Truncate {
        try reader.payload(.truncate) { r throws(PgOutputError.Reason) in
            let xid = try r.streamedXid(hasXid)
            let count = Int(try r.int32())
            let options = try r.uint8()
            guard count >= 0 else { throw .malformed("relation count \(count)") }
            guard count * 4 <= r.remaining else { throw .truncated(offset: r.offset, needed: count * 4) }
            var oids: [UInt32] = []
            oids.reserveCapacity(count)
            for _ in 0..<count { oids.append(try r.uint32()) }
            return Truncate(
                xid: xid, cascade: options & cascadeFlag != 0,
                restartIdentity: options & restartIdentityFlag != 0, relationOIDs: oids)
        }
    }
}
