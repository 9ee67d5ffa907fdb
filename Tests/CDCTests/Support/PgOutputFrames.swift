// Builds replication frames around pgoutput messages for the stream
// machine's tests (protocol page "Logical Replication Message Formats"):
// lengths and counts are filled in, values are text.

import PostgresReplication
import PostgresWire

enum PgOutputFrames {
    /// `users (id int4 key, email text)`.
    static let usersOID: UInt32 = 16_384

    /// An XLogData frame carrying `message`.
    static func xLog(_ message: [UInt8], at lsn: UInt64, walEnd: UInt64? = nil) -> ServerFrame {
        .xLogData(
            .init(
                walStart: LSN(lsn), walEnd: LSN(walEnd ?? lsn), sendTime: PostgresTimestamp(rawValue: 0), data: message)
        )
    }

    static func keepalive(walEnd: UInt64, reply: Bool) -> ServerFrame {
        .keepalive(.init(walEnd: LSN(walEnd), sendTime: PostgresTimestamp(rawValue: 0), replyRequested: reply))
    }

    private static func message(_ id: Unicode.Scalar, _ fill: (inout ByteWriter) -> Void) -> [UInt8] {
        var writer = ByteWriter()
        writer.writeASCII(id)
        fill(&writer)
        return writer.bytes
    }

    private static func cString(_ text: String, into writer: inout ByteWriter) {
        writer.write(bytes: text.utf8)
        writer.write(UInt8(0))
    }

    static func begin(commit: UInt64, xid: UInt32 = 7) -> [UInt8] {
        message("B") { w in
            w.write(LSN(commit))
            w.write(PostgresTimestamp(rawValue: 1_000))
            w.write(xid)
        }
    }

    static func commit(_ commit: UInt64, end: UInt64? = nil) -> [UInt8] {
        message("C") { w in
            w.write(UInt8(0))
            w.write(LSN(commit))
            w.write(LSN(end ?? commit + 0x28))
            w.write(PostgresTimestamp(rawValue: 1_000))
        }
    }

    static let usersColumns: [(key: Bool, name: String, type: UInt32)] = [(true, "id", 23), (false, "email", 25)]

    static func relation(
        oid: UInt32 = usersOID, name: String = "users", xid: UInt32? = nil,
        columns: [(key: Bool, name: String, type: UInt32)] = usersColumns
    ) -> [UInt8] {
        message("R") { w in
            if let xid { w.write(xid) }
            w.write(oid)
            cString("public", into: &w)
            cString(name, into: &w)
            w.writeASCII("f")
            w.write(Int16(columns.count))
            for (key, column, type) in columns {
                w.write(UInt8(key ? 1 : 0))
                cString(column, into: &w)
                w.write(type)
                w.write(Int32(-1))
            }
        }
    }

    private static func tuple(_ id: Int, _ email: String?, into w: inout ByteWriter) {
        w.write(Int16(2))
        for value in [String(id), email] {
            guard let value else {
                w.writeASCII("n")
                continue
            }
            w.writeASCII("t")
            w.write(Int32(value.utf8.count))
            w.write(bytes: value.utf8)
        }
    }

    static func insert(_ id: Int, _ email: String = "a@x", oid: UInt32 = usersOID, xid: UInt32? = nil) -> [UInt8] {
        message("I") { w in
            if let xid { w.write(xid) }
            w.write(oid)
            w.writeASCII("N")
            tuple(id, email, into: &w)
        }
    }

    static func update(_ id: Int, from old: String, to new: String, oid: UInt32 = usersOID, xid: UInt32? = nil)
        -> [UInt8]
    {
        message("U") { w in
            if let xid { w.write(xid) }
            w.write(oid)
            w.writeASCII("O")
            tuple(id, old, into: &w)
            w.writeASCII("N")
            tuple(id, new, into: &w)
        }
    }

    static func delete(_ id: Int, _ email: String = "a@x", oid: UInt32 = usersOID, xid: UInt32? = nil) -> [UInt8] {
        message("D") { w in
            if let xid { w.write(xid) }
            w.write(oid)
            w.writeASCII("O")
            tuple(id, email, into: &w)
        }
    }

    /// A logical message (`pg_logical_emit_message(transactional, …)`).
    static func logical(
        prefix: String, content: String, at lsn: UInt64, xid: UInt32? = nil, transactional: Bool = true
    ) -> [UInt8] {
        message("M") { w in
            if let xid { w.write(xid) }
            w.write(UInt8(transactional ? 1 : 0))
            w.write(LSN(lsn))
            cString(prefix, into: &w)
            w.write(Int32(content.utf8.count))
            w.write(bytes: content.utf8)
        }
    }

    static func streamStart(xid: UInt32, first: Bool) -> [UInt8] {
        message("S") { w in
            w.write(xid)
            w.write(UInt8(first ? 1 : 0))
        }
    }

    static func streamStop() -> [UInt8] { message("E") { _ in } }

    static func streamCommit(xid: UInt32, commit: UInt64, end: UInt64? = nil) -> [UInt8] {
        message("c") { w in
            w.write(xid)
            w.write(UInt8(0))
            w.write(LSN(commit))
            w.write(LSN(end ?? commit + 0x28))
            w.write(PostgresTimestamp(rawValue: 1_000))
        }
    }

    static func streamAbort(xid: UInt32, subtransaction: UInt32? = nil) -> [UInt8] {
        message("A") { w in
            w.write(xid)
            w.write(subtransaction ?? xid)
        }
    }
}
