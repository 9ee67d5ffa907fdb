// Begin ('B'): the start of a transaction sent at commit time.
// Protocol page, "Begin": Int64 final LSN, Int64 commit timestamp, Int32 xid.

import PostgresWire

/// The start of a (non-streamed) transaction.
public struct Begin: Sendable, Equatable {
    /// The LSN of the transaction's commit record.
    public var finalLSN: LSN
    public var commitTime: PostgresTimestamp
    public var xid: UInt32

    public init(finalLSN: LSN, commitTime: PostgresTimestamp, xid: UInt32) {
        self.finalLSN = finalLSN
        self.commitTime = commitTime
        self.xid = xid
    }

    /// Decodes the fields after the type byte.
    public static func decode(from reader: inout ByteReader) throws(PgOutputError) -> Begin {
        try reader.payload(.begin) { r throws(PgOutputError.Reason) in
            Begin(finalLSN: try r.lsn(), commitTime: try r.timestamp(), xid: try r.uint32())
        }
    }
}
