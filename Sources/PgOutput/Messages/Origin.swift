// Origin ('O'): the replication origin of a transaction that was itself
// replayed from elsewhere. Protocol page, "Origin": Int64 commit LSN on the
// origin server, String origin name.

import PostgresWire

/// Where a transaction originally came from (sent after its Begin).
public struct Origin: Sendable, Equatable {
    /// The commit LSN on the origin server.
    public var commitLSN: LSN
    public var name: String

    public init(commitLSN: LSN, name: String) {
        self.commitLSN = commitLSN
        self.name = name
    }

    /// Decodes the fields after the type byte.
    public static func decode(from reader: inout ByteReader) throws(PgOutputError) -> Origin {
        try reader.payload(.origin) { r throws(PgOutputError.Reason) in
            Origin(commitLSN: try r.lsn(), name: try r.cString())
        }
    }
}
