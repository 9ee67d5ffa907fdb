// The graceful stop's last word to Postgres: a status update, then CopyDone,
// then the connection closes. A walsender busy writing a large transaction
// does not read what we send until it has written it; if we close first, its
// next write fails on the closed socket and it exits with our final status
// unread, so the slot keeps an older flush position. This drives exactly
// that moment with the replication connection alone.

import Foundation
import PipelineTestSupport
import PostgresReplication
import PostgresTestSupport
import PostgresWire
import Testing

extension HeavyTests {
    @Suite struct FinalStatusTests {
        @Test(.timeLimit(.minutes(5)))
        func theFinalStatusIsReadWhileTheWalsenderIsBusyWriting() async throws {
            let harness = try await CaptureHarness(
                setup: """
                    CREATE TABLE wide (id int, pad text);
                    CREATE PUBLICATION popsink FOR TABLE wide;
                    """)
            defer { harness.cleanUp() }
            let settings = try harness.postgres.settings(database: harness.database)
            for round in 0..<3 {
                if round == 0 {
                    let replication = try PostgresConnection(settings: settings, mode: .logicalReplication)
                    _ = try replication.createLogicalSlot(harness.slotName, snapshot: .none)
                }
                // A small transaction whose end we confirm, then a large one
                // the walsender is still writing when we stop.
                _ = try harness.execute("INSERT INTO wide VALUES (0, 'small')")
                _ = try harness.execute("INSERT INTO wide SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g")
                let start = try #require(try harness.confirmedFlush())
                let confirm = try Self.confirmSmallAndStopDuringLarge(
                    settings: settings, slot: harness.slotName, from: start)
                #expect(confirm > start)
                try await waitUntil("round \(round): the walsender ends") {
                    try harness.execute(
                        "SELECT active FROM pg_replication_slots WHERE slot_name = '\(harness.slotName)'"
                    ).value("active") == "f"
                }
                #expect(try harness.confirmedFlush() == confirm, "round \(round)")
                // The next round starts after the large transaction.
                _ = try harness.execute(
                    "SELECT pg_replication_slot_advance('\(harness.slotName)', pg_current_wal_insert_lsn())")
            }
        }

        /// Streams from `start`, confirms the end of the first transaction
        /// once 2,000 rows of the next have arrived, stops and closes.
        /// Returns the position confirmed.
        static func confirmSmallAndStopDuringLarge(settings: ConnectionSettings, slot: SlotName, from start: LSN)
            throws -> LSN
        {
            let replication = try PostgresConnection(settings: settings, mode: .logicalReplication)
            let stream = try replication.startLogicalReplication(
                slot: slot, start: start, protocolVersion: 1, publications: ["popsink"])
            var smallEnd: LSN?
            var rowsOfTheLargeOne = 0
            while rowsOfTheLargeOne < 2_000 {
                switch try stream.next() {
                case .frame(.xLogData(let data)):
                    if smallEnd == nil {
                        smallEnd = commitEnd(data.data)
                    } else if data.data.first == UInt8(ascii: "I") {
                        rowsOfTheLargeOne += 1
                    }
                case .frame(.keepalive):
                    break
                case .wouldBlock:
                    _ = try stream.wait(timeoutMilliseconds: 1000, wake: nil)
                }
            }
            let confirm = try #require(smallEnd)
            try stream.send(
                StandbyStatusUpdate(
                    written: confirm, flushed: confirm, applied: confirm,
                    sendTime: PostgresTimestamp(unixMicroseconds: WallClock.unixMicroseconds())))
            stream.finish()
            return confirm
        }

        /// The end LSN of a pgoutput Commit message ('C', flags, commit LSN, end LSN, time).
        static func commitEnd(_ message: [UInt8]) -> LSN? {
            guard message.count == 26, message[0] == UInt8(ascii: "C") else { return nil }
            return LSN(message[10..<18].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
    }
}
