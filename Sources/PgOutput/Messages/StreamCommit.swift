// Stream Commit ('c', protocol version 2+): a streamed transaction committed;
// its blocks become visible. Sent outside any Stream Start … Stop block.
// Protocol page, "Stream Commit": Int32 xid, Int8 flags (unused, 0), Int64
// commit LSN, Int64 end LSN, Int64 commit timestamp.

import PostgresWire

/// The commit of a streamed transaction.
public struct StreamCommit: Sendable, Equatable {
    public var xid: UInt32
    /// Unused by Postgres so far.
    public var flags: UInt8
    public var commitLSN: LSN
    /// The end of the commit record: the position to confirm once durable.
    public var endLSN: LSN
    public var commitTime: PostgresTimestamp

    public init(xid: UInt32, flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTime: PostgresTimestamp) {
        self.xid = xid
        self.flags = flags
        self.commitLSN = commitLSN
        self.endLSN = endLSN
        self.commitTime = commitTime
    }

    /// Decodes the fields after the type byte.
    public static func decode(from reader: inout ByteReader) throws(PgOutputError) -> StreamCommit {
        try reader.payload(.streamCommit) { r throws(PgOutputError.Reason) in
            StreamCommit(
                xid: try r.uint32(), flags: try r.uint8(), commitLSN: try r.lsn(), endLSN: try r.lsn(),
                commitTime: try r.timestamp())
        }
    }
}
