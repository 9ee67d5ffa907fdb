// Commit ('C'): the end of a transaction.
// Protocol page, "Commit": Int8 flags (currently unused, 0), Int64 commit LSN,
// Int64 end LSN of the transaction, Int64 commit timestamp.

import PostgresWire

/// The end of a (non-streamed) transaction.
public struct Commit: Sendable, Equatable {
    /// Unused by Postgres so far; kept so a future flag is visible, not lost.
    public var flags: UInt8
    /// The LSN of the commit record.
    public var commitLSN: LSN
    /// The end of the commit record: the position to confirm once durable.
    public var endLSN: LSN
    public var commitTime: PostgresTimestamp

    public init(flags: UInt8 = 0, commitLSN: LSN, endLSN: LSN, commitTime: PostgresTimestamp) {
        self.flags = flags
        self.commitLSN = commitLSN
        self.endLSN = endLSN
        self.commitTime = commitTime
    }

    /// Decodes the fields after the type byte.
    public static func decode(from reader: inout ByteReader) throws(PgOutputError) -> Commit {
        try reader.payload(.commit) { r throws(PgOutputError.Reason) in
            Commit(flags: try r.uint8(), commitLSN: try r.lsn(), endLSN: try r.lsn(), commitTime: try r.timestamp())
        }
    }
}
