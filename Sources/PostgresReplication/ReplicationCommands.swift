// The replication commands of the walsender protocol
// (https://www.postgresql.org/docs/current/protocol-replication.html),
// issued on a `replication=database` connection.

import CLibPQ
import PostgresWire

/// What `IDENTIFY_SYSTEM` reports about the server.
public struct SystemIdentity: Sendable, Equatable {
    /// The cluster's unique system identifier, stable across restarts.
    public let systemID: String
    public let timeline: Int
    /// The current WAL flush location.
    public let flushLSN: LSN
    public let database: String?
}

/// What `CREATE_REPLICATION_SLOT` returns.
public struct CreatedSlot: Sendable, Equatable {
    public let name: String
    /// The LSN from which the slot streams changes: everything committed
    /// after it, nothing before.
    public let consistentPoint: LSN
    /// The exported snapshot, when one was asked for.
    public let snapshotName: String?
}

/// Whether `CREATE_REPLICATION_SLOT` exports a snapshot for the table snapshot.
public enum SlotSnapshot: Sendable {
    case none
    case export
}

/// A replication slot name: 1 to 63 of `[a-z0-9_]`, as Postgres requires.
public struct SlotName: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard (1...63).contains(rawValue.utf8.count),
            rawValue.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F })
        else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}

extension PostgresConnection {
    public func identifySystem() throws(PostgresError) -> SystemIdentity {
        let result = try query("IDENTIFY_SYSTEM")
        guard let systemID = result.value("systemid"),
            let timeline = result.value("timeline").flatMap({ Int($0) }),
            let flush = result.value("xlogpos").flatMap({ LSN($0) })
        else {
            throw PostgresError(
                kind: .protocolViolation, operation: "IDENTIFY_SYSTEM",
                message: "unexpected reply \(result.columns) \(result.rows)")
        }
        return SystemIdentity(systemID: systemID, timeline: timeline, flushLSN: flush, database: result.value("dbname"))
    }

    /// Creates a logical slot decoding with `pgoutput`.
    public func createLogicalSlot(_ name: SlotName, snapshot: SlotSnapshot) throws(PostgresError) -> CreatedSlot {
        // The pre-15 keyword syntax works on every supported server.
        let snapshotClause = snapshot == .export ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT"
        let result = try query("CREATE_REPLICATION_SLOT \(name) LOGICAL pgoutput \(snapshotClause)")
        guard let point = result.value("consistent_point").flatMap({ LSN($0) }) else {
            throw PostgresError(
                kind: .protocolViolation, operation: "CREATE_REPLICATION_SLOT",
                message: "no consistent point in reply \(result.rows)")
        }
        return CreatedSlot(name: name.rawValue, consistentPoint: point, snapshotName: result.value("snapshot_name"))
    }

    public func dropSlot(_ name: SlotName, wait: Bool = false) throws(PostgresError) {
        try query("DROP_REPLICATION_SLOT \(name)\(wait ? " WAIT" : "")")
    }

    /// The highest pgoutput protocol version this server speaks, capped at
    /// what the decoder understands. 2 adds streamed transactions (14+),
    /// 3 two-phase commit (15+), 4 parallel streaming (16+); we ask for two-phase
    /// nowhere, so 3 and 4 change nothing on the wire unless streaming is on.
    public static func pgoutputProtocolVersion(serverVersion: Int) -> Int {
        switch serverVersion {
        case 160000...: 4
        case 150000...: 3
        case 140000...: 2
        default: 1
        }
    }

    /// Starts streaming from `slot` at `start`; the connection is in COPY BOTH
    /// mode when this returns, read it with `ReplicationStream`.
    public func startLogicalReplication(
        slot: SlotName, start: LSN, protocolVersion: Int, publications: [String],
        streaming: Bool = false
    ) throws(PostgresError) -> ReplicationStream {
        // publication_names is one string literal holding a list of identifiers.
        let names = publications.map(Self.quoteIdentifier).joined(separator: ",")
        var options = [
            "proto_version '\(protocolVersion)'",
            "publication_names \(Self.quoteLiteral(names))",
            "messages 'true'",
        ]
        if streaming { options.append("streaming 'on'") }
        let command = "START_REPLICATION SLOT \(slot) LOGICAL \(start) (\(options.joined(separator: ", ")))"
        _ = try finish(PQexec(handle, command), operation: "START_REPLICATION", expecting: PGRES_COPY_BOTH)
        return try ReplicationStream(connection: self)
    }
}
