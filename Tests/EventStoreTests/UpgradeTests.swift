// Opening a store written by the version before blocks (schema 5, one row per
// event): Fixtures/store-v5.sqlite was written by that version's writer (30
// events in 3 groups, retention through 4, consumer "billing" at 12). It is
// read as it is, then continued in blocks with nothing lost or repeated.

import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct UpgradeTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/store-v5.sqlite").path

    /// The event the fixture holds at `sequence`, as that version's writer stored it.
    static func fixtureEvent(_ sequence: Int64) -> StoredEvent {
        let (lsn, ordinal): (UInt64, Int32) =
            switch sequence {
            case ...10: (0x1000 + UInt64(sequence - 1) * 0x100, 0)
            case ...25: (0x5000, Int32(sequence - 11))
            default: (0x6000 + UInt64(sequence - 26) * 0x100, 0)
            }
        return StoredEvent(sequence: sequence, commitLSN: LSN(lsn), ordinal: ordinal, body: body(LSN(lsn), ordinal))
    }

    @Test func aSchemaFiveStoreIsReadAndContinuedExactly() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            try FileManager.default.copyItem(atPath: Self.fixture, toPath: path)

            // Read as the older version left it, before this version's writer migrates it.
            let early = try EventStoreReader(path: path)
            #expect(try early.events(after: 0, limit: 100) == (5...30).map(Self.fixtureEvent))
            #expect(try early.firstSequence() == 5)
            #expect(try early.sequence(of: EventID(commitLSN: LSN(0x5000), ordinal: 3)) == 14)

            let writer = try EventStoreWriter(path: path)
            #expect(writer.lastSequence == 30)
            #expect(writer.checkpoint == Checkpoint(lastCommitLSN: LSN(0x6400), flushLSN: LSN(0x6428)))
            #expect(try writer.metadata("slot_name") == "fixture_slot")

            // Continue: one transaction large enough for several blocks.
            try writer.beginGroup()
            for ordinal in Int32(0)..<1500 {
                let sequence = try writer.append(
                    commitLSN: LSN(0x7000), ordinal: ordinal, body: body(LSN(0x7000), ordinal))
                #expect(sequence == 31 + Int64(ordinal))
            }
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x7000), flushLSN: LSN(0x7028)))

            let expected =
                (5...30).map(Self.fixtureEvent)
                + (31...1530).map {
                    StoredEvent(
                        sequence: $0, commitLSN: LSN(0x7000), ordinal: Int32($0 - 31),
                        body: body(LSN(0x7000), Int32($0 - 31)))
                }
            // The reader opened before the migration and a new one both see the
            // two layouts in order, and pages cross from one to the other.
            let late = try EventStoreReader(path: path)
            for reader in [early, late] {
                #expect(try reader.events(after: 0, limit: 10_000, maxBytes: .max) == expected)
                #expect(try reader.events(after: 28, limit: 5).map(\.sequence) == [29, 30, 31, 32, 33])
                #expect(try reader.sequence(of: EventID(commitLSN: LSN(0x5000), ordinal: 3)) == 14)
                #expect(try reader.sequence(of: EventID(commitLSN: LSN(0x7000), ordinal: 700)) == 731)
                #expect(try reader.lastSequence() == 1530)
            }

            // Retention through both layouts marks the consumer that had not acknowledged them.
            let consumers = try EventStoreConsumers(path: path)
            #expect(try consumers.consumer("billing")?.ackedSequence == 12)
            #expect(try writer.deleteEvents(upTo: 100) == 96)
            #expect(try late.firstSequence() == 101)
            #expect(try consumers.consumer("billing")?.lostThrough == 100)
            #expect(try late.events(after: 100, limit: 10_000, maxBytes: .max) == Array(expected.dropFirst(96)))

            // Reopened, the writer goes on after the highest sequence ever assigned.
            writer.close()
            let reopened = try EventStoreWriter(path: path)
            try reopened.beginGroup()
            #expect(try reopened.append(commitLSN: LSN(0x8000), ordinal: 0, body: body(LSN(0x8000), 0)) == 1531)
            try reopened.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x8000), flushLSN: LSN(0x8028)))
            #expect(try late.events(after: 1529, limit: 10).map(\.sequence) == [1530, 1531])
        }
    }
}
