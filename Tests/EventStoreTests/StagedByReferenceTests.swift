// Stream Commit by reference (schema 9): the committed blocks point at the
// frames staging wrote instead of holding copies, so the commit writes a
// small row per block. What must hold: no frame is copied, readers see the
// events exactly, an abort or a rolled-back move leaves nothing behind, and
// across many big transactions with retention the file stops growing and
// every frame is either staged or referenced by a block (none orphaned).

import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct StagedByReferenceTests {
    /// Stages `count` templates and as many messages of `xid` over `groups`
    /// groups, then commits them at `lsn` in a group of their own.
    static func bigTransaction(
        _ writer: EventStoreWriter, xid: UInt32, count: Int, groups: Int = 2, lsn: UInt64
    ) throws -> Int64 {
        for group in 0..<groups {
            try writer.beginGroup()
            for n in (count * group / groups)..<(count * (group + 1) / groups) {
                try writer.stage(transaction: xid, subtransaction: xid, message: Array("message \(n)".utf8)[...])
                try writer.stageEvent(
                    transaction: xid, subtransaction: xid, template: StagedEventsTests.template(n),
                    gaps: StagedEventsTests.gaps)
            }
            try writer.commitGroup(checkpoint: writer.checkpoint ?? Checkpoint(lastCommitLSN: .zero, flushLSN: .zero))
        }
        try writer.beginGroup()
        let moved = try writer.commitStagedEvents(transaction: xid, completion: StagedEventsTests.completion(lsn))
        try writer.discardStaged(transaction: xid)
        try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(lsn), flushLSN: LSN(lsn + 0x28)))
        return moved
    }

    /// Frames neither staged nor referenced by a block, and the counts of both kinds.
    static func frames(_ path: String) throws -> (orphans: Int64, staged: Int64, referenced: Int64) {
        let connection = try SQLiteConnection(path: path, mode: .readOnly)
        defer { connection.close() }
        let operation = "count frames"
        return (
            try connection.integer(
                """
                SELECT count(*) FROM block_frames WHERE id NOT IN (SELECT frame_id FROM staged)
                AND id NOT IN (SELECT frame_id FROM event_blocks WHERE frame_id IS NOT NULL)
                """, operation: operation),
            try connection.integer("SELECT count(*) FROM staged", operation: operation),
            try connection.integer("SELECT count(*) FROM event_blocks WHERE frame_id IS NOT NULL", operation: operation)
        )
    }

    @Test func theCommitPointsAtTheStagedFramesAndCopiesNone() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            #expect(try Self.bigTransaction(writer, xid: 7, count: 4000, lsn: 0x9000) == 4000)
            let connection = try SQLiteConnection(path: path, mode: .readOnly)
            defer { connection.close() }
            let blocks = try connection.integer("SELECT count(*) FROM event_blocks", operation: "count")
            #expect(blocks > 5)
            #expect(
                try connection.integer("SELECT count(*) FROM event_blocks WHERE frame_id IS NULL", operation: "count")
                    == 0)
            // Each moved row holds only the header that completes its templates.
            #expect(try connection.integer("SELECT max(length(frame)) FROM event_blocks", operation: "size") < 100)
            let state = try Self.frames(path)
            #expect(state.orphans == 0 && state.staged == 0 && state.referenced == blocks)
            let expected = (0..<4000).map { n in
                StoredEvent(
                    sequence: Int64(n + 1), commitLSN: LSN(0x9000), ordinal: Int32(n),
                    body: StagedEventsTests.completed(n, ordinal: n, lsn: 0x9000))
            }
            let reader = try EventStoreReader(path: path)
            #expect(try reader.events(after: 0, limit: 10_000) == expected)
            #expect(try reader.events(after: 2222, limit: 5) == Array(expected[2222..<2227]))
            #expect(try reader.sequence(of: EventID(commitLSN: LSN(0x9000), ordinal: 3001)) == 3002)
            writer.close()
        }
    }

    @Test func anAbortedTransactionLeavesNoEventAndNoFrame() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            for group in 0..<2 {
                try writer.beginGroup()
                for n in (group * 1500)..<((group + 1) * 1500) {
                    try writer.stage(
                        transaction: 5, subtransaction: n % 3 == 0 ? 6 : 5, message: Array("m\(n)".utf8)[...])
                    try writer.stageEvent(
                        transaction: 5, subtransaction: n % 3 == 0 ? 6 : 5, template: StagedEventsTests.template(n),
                        gaps: StagedEventsTests.gaps)
                }
                try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x100), flushLSN: LSN(0x128)))
            }
            #expect(try Self.frames(path).staged > 4)
            try writer.beginGroup()
            try writer.discardStaged(transaction: 5, subtransaction: 6)
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x100), flushLSN: LSN(0x128)))
            #expect(try Self.frames(path).orphans == 0)
            try writer.beginGroup()
            try writer.discardStaged(transaction: 5)
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x100), flushLSN: LSN(0x128)))
            let connection = try SQLiteConnection(path: path, mode: .readOnly)
            defer { connection.close() }
            #expect(try connection.integer("SELECT count(*) FROM block_frames", operation: "count") == 0)
            #expect(try connection.integer("SELECT count(*) FROM staged", operation: "count") == 0)
            #expect(writer.lastSequence == 0)
            #expect(try EventStoreReader(path: path).events(after: 0, limit: 10).isEmpty)
            writer.close()
        }
    }

    @Test func manyBigTransactionsWithRetentionDoNotGrowTheFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            var sizes: [Int64] = []
            for round in 0..<12 {
                let lsn = 0x10000 + UInt64(round) * 0x1000
                #expect(try Self.bigTransaction(writer, xid: UInt32(100 + round), count: 3000, lsn: lsn) == 3000)
                // Keep only the newest transaction, as size retention would.
                try writer.deleteEvents(upTo: writer.lastSequence - 3000)
                let first = try #require(
                    try EventStoreReader(path: path).events(after: writer.lastSequence - 3000, limit: 1).first)
                #expect(first.body == StagedEventsTests.completed(0, ordinal: 0, lsn: lsn))
                let state = try Self.frames(path)
                #expect(state.orphans == 0 && state.staged == 0)
                sizes.append(try writer.databaseBytes())
            }
            // Freed pages are reused: after the first rounds the file stays as it is.
            #expect(sizes[11] <= sizes[3] + sizes[3] / 10, "file sizes by round: \(sizes)")
            writer.close()
        }
    }

    @Test func retentionCutsThroughAReferencedBlockAndFreesTheFramesItDeletes() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try Self.bigTransaction(writer, xid: 3, count: 3000, lsn: 0x4000)
            let before = try Self.frames(path).referenced
            #expect(try writer.deleteEvents(upTo: 1234) == 1234)
            let after = try Self.frames(path)
            #expect(after.orphans == 0 && after.referenced < before)
            let events = try EventStoreReader(path: path).events(after: 0, limit: 10_000)
            #expect(events.map(\.sequence) == Array(1235...3000))
            #expect(events.first?.body == StagedEventsTests.completed(1234, ordinal: 1234, lsn: 0x4000))
            writer.close()
        }
    }
}
