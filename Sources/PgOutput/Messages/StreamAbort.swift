// Stream Abort ('A', protocol version 2+): a streamed transaction, or one of
// its subtransactions (ROLLBACK TO SAVEPOINT), aborted; discard its changes.
// Protocol page, "Stream Abort": Int32 xid, Int32 subtransaction xid (equal
// to xid when the whole transaction aborted), and in protocol version 4 with
// parallel streaming, Int64 abort LSN and Int64 abort timestamp.

import PostgresWire

/// The abort of a streamed transaction or of one of its subtransactions.
public struct StreamAbort: Sendable, Equatable {
    public var xid: UInt32
    /// The aborted subtransaction; equal to `xid` when the whole transaction aborted.
    public var subtransactionXid: UInt32
    /// Protocol version 4 with `streaming 'parallel'` only; nil otherwise.
    public var abortLSN: LSN?
    public var abortTime: PostgresTimestamp?

    public init(xid: UInt32, subtransactionXid: UInt32, abortLSN: LSN? = nil, abortTime: PostgresTimestamp? = nil) {
        self.xid = xid
        self.subtransactionXid = subtransactionXid
        self.abortLSN = abortLSN
        self.abortTime = abortTime
    }

    /// Whether the whole transaction aborted, not just a subtransaction.
    public var abortsTransaction: Bool { xid == subtransactionXid }

    /// Decodes the fields after the type byte. With `protocolVersion` 4 or
    /// later the abort LSN and time are read when present: Postgres sends them
    /// only with parallel streaming, which the decoder cannot otherwise know.
    public static func decode(from reader: inout ByteReader, protocolVersion: Int) throws(PgOutputError) -> StreamAbort
    {
        try reader.payload(.streamAbort) { r throws(PgOutputError.Reason) in
            var abort = StreamAbort(xid: try r.uint32(), subtransactionXid: try r.uint32())
            if protocolVersion >= 4, !r.isAtEnd {
                abort.abortLSN = try r.lsn()
                abort.abortTime = try r.timestamp()
            }
            return abort
        }
    }
}
