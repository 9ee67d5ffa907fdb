// The messages inside the COPY BOTH stream of logical replication
// (https://www.postgresql.org/docs/current/protocol-replication.html, "START_REPLICATION"):
// XLogData and primary keepalive from the server, standby status update from us.

import PostgresWire

/// A message the server sends inside the replication stream.
public enum ServerFrame: Sendable, Equatable {
    /// WAL data: one pgoutput message.
    case xLogData(XLogData)
    /// A keepalive, possibly asking for an immediate status update.
    case keepalive(PrimaryKeepalive)

    enum ID: UInt8 {
        case xLogData = 0x77  // 'w'
        case keepalive = 0x6B  // 'k'
    }

    public struct XLogData: Sendable, Equatable {
        /// Where this message's WAL starts.
        public let walStart: LSN
        /// The server's current end of WAL.
        public let walEnd: LSN
        public let sendTime: PostgresTimestamp
        /// The pgoutput message.
        public let data: [UInt8]

        public init(walStart: LSN, walEnd: LSN, sendTime: PostgresTimestamp, data: [UInt8]) {
            self.walStart = walStart
            self.walEnd = walEnd
            self.sendTime = sendTime
            self.data = data
        }
    }

    public struct PrimaryKeepalive: Sendable, Equatable {
        /// The server's current end of WAL (for logical: what it has sent).
        public let walEnd: LSN
        public let sendTime: PostgresTimestamp
        public let replyRequested: Bool

        public init(walEnd: LSN, sendTime: PostgresTimestamp, replyRequested: Bool) {
            self.walEnd = walEnd
            self.sendTime = sendTime
            self.replyRequested = replyRequested
        }
    }

    /// Decodes one frame; the whole buffer must be exactly one message.
    public static func decode(_ bytes: [UInt8]) throws(ReplicationFrameError) -> ServerFrame {
        var reader = ByteReader(bytes)
        do {
            switch ID(rawValue: try reader.readUInt8()) {
            case .xLogData:
                let start = try reader.readLSN()
                let end = try reader.readLSN()
                let time = try reader.readTimestamp()
                return .xLogData(XLogData(walStart: start, walEnd: end, sendTime: time, data: Array(reader.readRest())))
            case .keepalive:
                let frame = PrimaryKeepalive(
                    walEnd: try reader.readLSN(), sendTime: try reader.readTimestamp(),
                    replyRequested: try reader.readUInt8() != 0)
                guard reader.isAtEnd else {
                    throw ReplicationFrameError(reason: "trailing bytes after keepalive", bytes: bytes)
                }
                return .keepalive(frame)
            case nil:
                throw ReplicationFrameError(reason: "unknown frame type", bytes: bytes)
            }
        } catch let error as ByteReader.Error {
            throw ReplicationFrameError(reason: "truncated frame (\(error))", bytes: bytes)
        } catch let error as ReplicationFrameError {
            throw error
        } catch {
            throw ReplicationFrameError(reason: "\(error)", bytes: bytes)
        }
    }
}

/// The standby status update we send: how far we have written, flushed and applied.
public struct StandbyStatusUpdate: Sendable, Equatable {
    public var written: LSN
    /// What Postgres may forget: it advances the slot's `confirmed_flush_lsn`.
    public var flushed: LSN
    public var applied: LSN
    public var sendTime: PostgresTimestamp
    public var replyRequested: Bool

    public init(written: LSN, flushed: LSN, applied: LSN, sendTime: PostgresTimestamp, replyRequested: Bool = false) {
        self.written = written
        self.flushed = flushed
        self.applied = applied
        self.sendTime = sendTime
        self.replyRequested = replyRequested
    }

    public var bytes: [UInt8] {
        var writer = ByteWriter(capacity: 34)
        writer.writeASCII("r")
        writer.write(written)
        writer.write(flushed)
        writer.write(applied)
        writer.write(sendTime)
        writer.write(UInt8(replyRequested ? 1 : 0))
        return writer.bytes
    }
}

/// A frame that does not follow the protocol, with its bytes.
public struct ReplicationFrameError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public let bytes: [UInt8]

    public var description: String {
        let shown = bytes.prefix(64).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        return "malformed replication frame: \(reason); bytes: \(shown)\(bytes.count > 64 ? "…" : "")"
    }
}
