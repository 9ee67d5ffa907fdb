// Opening a store of schema 8 (staged templates copied into event_blocks at
// commit) with a streamed transaction staged and not committed:
// Fixtures/store-v8.sqlite was written by that version's EventStoreWriter
// (three events, a 3,000-template transaction with a rolled-back
// subtransaction moved at commit as 2,400 events, and transaction 20's 2,000
// templates and messages staged in flight). Migration 9 drops what was in
// flight (Postgres streams it again from its start), the copied blocks read
// as before, and the transaction streamed again commits by reference after
// them, nothing lost or repeated, also for a reader opened before the migration.

import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct UpgradeV8Tests {
    /// The events the fixture holds.
    static let stored: [StoredEvent] = {
        var events = [
            StoredEvent(sequence: 1, commitLSN: LSN(0x100), ordinal: 0, body: body(LSN(0x100), 0)),
            StoredEvent(sequence: 2, commitLSN: LSN(0x200), ordinal: 0, body: body(LSN(0x200), 0)),
        ]
        for (ordinal, n) in (0..<3000).filter({ $0 % 5 != 0 }).enumerated() {
            events.append(
                StoredEvent(
                    sequence: 3 + Int64(ordinal), commitLSN: LSN(0x5000), ordinal: Int32(ordinal),
                    body: StagedEventsTests.completed(n, ordinal: ordinal, lsn: 0x5000)))
        }
        events.append(StoredEvent(sequence: 2403, commitLSN: LSN(0x6000), ordinal: 0, body: body(LSN(0x6000), 0)))
        return events
    }()

    @Test func aSchemaEightStoreWithStagedRowsInFlightIsMigratedAndContinuedExactly() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.sqlite"
            try FileManager.default.copyItem(
                atPath: UpgradeV6Tests.fixtures.appendingPathComponent("store-v8.sqlite").path, toPath: path)
            do {
                let old = try SQLiteConnection(path: path, mode: .readOnly)
                defer { old.close() }
                #expect(try old.integer("PRAGMA user_version", operation: "version") == 8)
                #expect(try old.integer("SELECT count(*) FROM staged_events WHERE xid = 20", operation: "count") > 0)
                #expect(try old.integer("SELECT count(*) FROM staged_blocks WHERE xid = 20", operation: "count") > 0)
            }
            let early = try EventStoreReader(path: path)
            #expect(try early.events(after: 0, limit: 10_000) == Self.stored)

            let writer = try EventStoreWriter(path: path)
            #expect(writer.lastSequence == 2403)
            // A session starts as the pipeline's does; nothing of transaction 20 is left.
            try writer.discardAllStaged()
            do {
                let migrated = try SQLiteConnection(path: path, mode: .readOnly)
                defer { migrated.close() }
                #expect(try migrated.integer("PRAGMA user_version", operation: "version") == 9)
                #expect(
                    try migrated.integer(
                        """
                        SELECT count(*) FROM sqlite_schema
                        WHERE name IN ('staged_events', 'staged_blocks', 'staged_changes')
                        """, operation: "tables") == 0)
                #expect(try migrated.integer("SELECT count(*) FROM block_frames", operation: "count") == 0)
            }
            #expect(try writer.commitStagedEventsCount(transaction: 20) == 0)

            // Postgres streams transaction 20 again; it commits by reference.
            #expect(try StagedByReferenceTests.bigTransaction(writer, xid: 20, count: 2000, lsn: 0x7000) == 2000)
            #expect(writer.lastSequence == 4403)
            let added = (0..<2000).map { n in
                StoredEvent(
                    sequence: 2404 + Int64(n), commitLSN: LSN(0x7000), ordinal: Int32(n),
                    body: StagedEventsTests.completed(n, ordinal: n, lsn: 0x7000))
            }
            let all = Self.stored + added
            for reader in [early, try EventStoreReader(path: path)] {
                #expect(try reader.events(after: 0, limit: 10_000) == all)
                #expect(try reader.events(after: 2400, limit: 6) == Array(all[2400..<2406]))
                #expect(try reader.sequence(of: EventID(commitLSN: LSN(0x5000), ordinal: 1000)) == 1003)
                #expect(try reader.sequence(of: EventID(commitLSN: LSN(0x7000), ordinal: 1500)) == 3904)
            }
            #expect(try StagedByReferenceTests.frames(path).orphans == 0)

            // Retention through the copied blocks and into the referenced ones.
            #expect(try writer.deleteEvents(upTo: 3000) == 3000)
            #expect(try early.events(after: 0, limit: 10_000) == Array(all[3000...]))
            let frames = try StagedByReferenceTests.frames(path)
            #expect(frames.orphans == 0 && frames.referenced > 0)
            writer.close()
        }
    }
}

extension EventStoreWriter {
    /// How many events `commitStagedEvents` would move for `xid` now (in a group rolled back after).
    func commitStagedEventsCount(transaction xid: UInt32) throws -> Int64 {
        try beginGroup()
        defer { rollbackGroup() }
        return try commitStagedEvents(transaction: xid, completion: StagedEventsTests.completion(0x1))
    }
}
