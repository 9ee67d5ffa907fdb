// The standby status update we send (protocol-replication.html, "Standby
// status update (F)"): `r`, written, flushed and applied LSNs, the send time
// in microseconds since 2000-01-01, and whether we ask for a reply.

import PostgresReplication
import PostgresWire
import Testing

@Suite struct StandbyStatusUpdateTests {
    @Test func encodesEveryFieldBigEndian() {
        let update = StandbyStatusUpdate(
            written: LSN(0x0102_0304_0506_0708), flushed: LSN(0x10), applied: LSN(0x0F),
            sendTime: PostgresTimestamp(rawValue: 0x0A0B), replyRequested: true)
        #expect(
            update.bytes == [0x72]
                + [1, 2, 3, 4, 5, 6, 7, 8]
                + [0, 0, 0, 0, 0, 0, 0, 0x10]
                + [0, 0, 0, 0, 0, 0, 0, 0x0F]
                + [0, 0, 0, 0, 0, 0, 0x0A, 0x0B]
                + [1])
    }

    @Test func asksForNoReplyByDefault() {
        let update = StandbyStatusUpdate(
            written: .zero, flushed: .zero, applied: .zero, sendTime: PostgresTimestamp(rawValue: 0))
        #expect(update.bytes.count == 34)
        #expect(update.bytes.last == 0)
    }

    @Test func aNegativeSendTimeKeepsItsBits() {
        let update = StandbyStatusUpdate(
            written: .zero, flushed: .zero, applied: .zero, sendTime: PostgresTimestamp(rawValue: -1))
        #expect(update.bytes[25..<33].allSatisfy { $0 == 0xFF })
    }
}
