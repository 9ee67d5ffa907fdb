// The frames inside the COPY BOTH stream of logical replication
// (protocol-replication.html, "START_REPLICATION"): XLogData and primary
// keepalive decoded, with short and malformed frames refused with their bytes.

import PostgresReplication
import PostgresWire
import Testing

@Suite struct ServerFrameTests {
    /// `w`, WAL start, WAL end, send time, then the pgoutput message.
    static func xLogData(start: UInt64, end: UInt64, time: Int64, message: [UInt8]) -> [UInt8] {
        var writer = ByteWriter()
        writer.writeASCII("w")
        writer.write(start)
        writer.write(end)
        writer.write(time)
        writer.write(bytes: message)
        return writer.bytes
    }

    /// `k`, WAL end, send time, reply requested.
    static func keepalive(end: UInt64, time: Int64, reply: UInt8) -> [UInt8] {
        var writer = ByteWriter()
        writer.writeASCII("k")
        writer.write(end)
        writer.write(time)
        writer.write(reply)
        return writer.bytes
    }

    @Test func decodesXLogDataWithItsMessage() throws {
        let frame = try ServerFrame.decode(
            Self.xLogData(start: 0x1_0000_0010, end: 0x1_0000_0020, time: 42, message: [0x42, 1, 2]))
        #expect(
            frame
                == .xLogData(
                    .init(
                        walStart: LSN(0x1_0000_0010), walEnd: LSN(0x1_0000_0020),
                        sendTime: PostgresTimestamp(rawValue: 42),
                        data: [0x42, 1, 2])))
    }

    @Test func decodesXLogDataWithAnEmptyMessage() throws {
        let frame = try ServerFrame.decode(Self.xLogData(start: 1, end: 2, time: 3, message: []))
        guard case .xLogData(let data) = frame else {
            Issue.record("expected XLogData, got \(frame)")
            return
        }
        #expect(data.data.isEmpty)
    }

    @Test(arguments: [(UInt8(0), false), (UInt8(1), true), (UInt8(7), true)])
    func decodesKeepalives(reply: UInt8, replyRequested: Bool) throws {
        let frame = try ServerFrame.decode(Self.keepalive(end: 0x2000, time: -5, reply: reply))
        #expect(
            frame
                == .keepalive(
                    .init(
                        walEnd: LSN(0x2000), sendTime: PostgresTimestamp(rawValue: -5), replyRequested: replyRequested))
        )
    }

    @Test func refusesShortFrames() {
        let whole = Self.keepalive(end: 0x2000, time: 1, reply: 1)
        for length in 0..<whole.count {
            let short = Array(whole.prefix(length))
            #expect(throws: ReplicationFrameError.self, "a keepalive of \(length) bytes") {
                try ServerFrame.decode(short)
            }
        }
        let header = Self.xLogData(start: 1, end: 2, time: 3, message: [])
        for length in 0..<header.count {
            #expect(throws: ReplicationFrameError.self) { try ServerFrame.decode(Array(header.prefix(length))) }
        }
    }

    @Test func refusesMalformedFramesWithTheirBytes() throws {
        let unknown = try #require(throws: ReplicationFrameError.self) { try ServerFrame.decode([0x78, 1, 2, 3]) }
        #expect(unknown.reason == "unknown frame type")
        #expect(unknown.bytes == [0x78, 1, 2, 3])
        #expect(unknown.description.contains("78010203"))

        let trailing = try #require(throws: ReplicationFrameError.self) {
            try ServerFrame.decode(Self.keepalive(end: 1, time: 1, reply: 0) + [0xFF])
        }
        #expect(trailing.reason.contains("trailing"))

        let truncated = try #require(throws: ReplicationFrameError.self) { try ServerFrame.decode([0x6B, 0, 0]) }
        #expect(truncated.reason.contains("truncated"))
    }

    @Test func longFramesAreShownCut() throws {
        let error = try #require(throws: ReplicationFrameError.self) {
            try ServerFrame.decode([0x7A] + Array(repeating: 0xAB, count: 200))
        }
        #expect(error.description.hasSuffix("…"))
        #expect(error.bytes.count == 201)
    }
}
