// Message ('M'): a message written with pg_logical_emit_message, sent only
// with the `messages` option. Protocol page, "Message": [Int32 xid], Int8
// flags (1 = transactional), Int64 LSN, String prefix, Int32 length, bytes.
// A non-transactional message arrives on its own, outside Begin … Commit.

import PostgresWire

/// A logical decoding message.
public struct LogicalMessage: Sendable, Equatable {
    /// The streamed transaction, inside a Stream Start … Stop block; else nil.
    public var xid: UInt32?
    public var transactional: Bool
    /// The LSN of the message's WAL record.
    public var lsn: LSN
    public var prefix: String
    /// The content, a slice of the message buffer (arbitrary bytes).
    public var content: ArraySlice<UInt8>

    public init(xid: UInt32? = nil, transactional: Bool, lsn: LSN, prefix: String, content: ArraySlice<UInt8>) {
        self.xid = xid
        self.transactional = transactional
        self.lsn = lsn
        self.prefix = prefix
        self.content = content
    }

    static let transactionalFlag: UInt8 = 1

    /// Decodes the fields after the type byte; `hasXid` inside a streamed block.
    public static func decode(from reader: inout ByteReader, hasXid: Bool) throws(PgOutputError) -> LogicalMessage {
        try reader.payload(.message) { r throws(PgOutputError.Reason) in
            let xid = try r.streamedXid(hasXid)
            let flags = try r.uint8()
            let lsn = try r.lsn()
            let prefix = try r.cString()
            let length = Int(try r.int32())
            guard length >= 0 else { throw .malformed("content length \(length)") }
            return LogicalMessage(
                xid: xid, transactional: flags & transactionalFlag != 0, lsn: lsn, prefix: prefix,
                content: try r.slice(length))
        }
    }
}
