// Event templates of a streamed transaction (EventTemplate.swift): staged in
// blocks as they arrive, moved into event_blocks at commit without being
// decoded, and completed by readers, retention and lookups to exactly the
// bodies an event encoded at commit would have.

import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct StagedEventsTests {
    static let gaps = TemplateGaps(first: 4, second: 9)!

    /// A template whose gaps sit after `tpl-` and after `-mid-`; large enough
    /// (about 200 B) that a few thousand make several blocks.
    static func template(_ n: Int) -> [UInt8] {
        Array("tpl-mid-\(n)".utf8.prefix(4)) + Array("-mid-".utf8)
            + Array("-tail-\(n)-\(String(repeating: "x", count: 180 + n % 17))".utf8)
    }

    static func completion(_ lsn: UInt64) -> TemplateCompletion {
        TemplateCompletion(
            commitLSN: LSN(lsn), firstOrdinal: 0, prefix: Array(#"{"id":"\#(LSN(lsn)):"#.utf8),
            firstGap: Array("<first>".utf8), secondGap: Array("<second \(LSN(lsn))>".utf8))
    }

    /// The body the completion makes of template `n` at `ordinal`.
    static func completed(_ n: Int, ordinal: Int, lsn: UInt64) -> [UInt8] {
        let template = template(n)
        let done = completion(lsn)
        return done.prefix + Array(String(ordinal).utf8) + template[..<4] + done.firstGap + template[4..<9]
            + done.secondGap + template[9...]
    }

    @Test func templatesMoveIntoEventsAndReadBackCompleted() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            // Group 1: an ordinary event, then templates of xid 9 (subtransactions 9 and 11) staged.
            try writer.beginGroup()
            try writer.append(commitLSN: LSN(0x100), ordinal: 0, body: body(LSN(0x100), 0))
            for n in 0..<3000 {
                try writer.stageEvent(
                    transaction: 9, subtransaction: n % 5 == 0 ? 11 : 9, template: Self.template(n), gaps: Self.gaps)
            }
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x100), flushLSN: LSN(0x128)))

            // Group 2: more templates, subtransaction 11 rolled back, another event, the commit's move.
            try writer.beginGroup()
            for n in 3000..<3500 {
                try writer.stageEvent(
                    transaction: 9, subtransaction: n % 5 == 0 ? 11 : 9, template: Self.template(n), gaps: Self.gaps)
            }
            try writer.discardStaged(transaction: 9, subtransaction: 11)
            try writer.append(commitLSN: LSN(0x200), ordinal: 0, body: body(LSN(0x200), 0))
            let moved = try writer.commitStagedEvents(transaction: 9, completion: Self.completion(0x5000))
            try writer.discardStaged(transaction: 9)
            try writer.append(commitLSN: LSN(0x6000), ordinal: 0, body: body(LSN(0x6000), 0))
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x6000), flushLSN: LSN(0x6028)))

            let kept = (0..<3500).filter { $0 % 5 != 0 }
            #expect(moved == Int64(kept.count))
            var expected = [
                StoredEvent(sequence: 1, commitLSN: LSN(0x100), ordinal: 0, body: body(LSN(0x100), 0)),
                StoredEvent(sequence: 2, commitLSN: LSN(0x200), ordinal: 0, body: body(LSN(0x200), 0)),
            ]
            for (ordinal, n) in kept.enumerated() {
                expected.append(
                    StoredEvent(
                        sequence: 3 + Int64(ordinal), commitLSN: LSN(0x5000), ordinal: Int32(ordinal),
                        body: Self.completed(n, ordinal: ordinal, lsn: 0x5000)))
            }
            let last = Int64(expected.count + 1)
            expected.append(StoredEvent(sequence: last, commitLSN: LSN(0x6000), ordinal: 0, body: body(LSN(0x6000), 0)))
            #expect(writer.lastSequence == last)

            let reader = try EventStoreReader(path: path)
            let all = try reader.events(after: 0, limit: 100_000)
            #expect(all.count == expected.count)
            #expect(all.first { !expected.contains($0) } == nil)
            // Pages that start and end inside moved blocks.
            #expect(try reader.events(after: 1234, limit: 7) == Array(expected[1234..<1241]))
            #expect(try reader.sequence(of: EventID(commitLSN: LSN(0x5000), ordinal: 2001)) == 2004)
            #expect(try reader.sequence(of: EventID(commitLSN: LSN(0x6000), ordinal: 0)) == last)
            // Nothing is left staged.
            try writer.beginGroup()
            #expect(try writer.commitStagedEvents(transaction: 9, completion: Self.completion(0x5000)) == 0)
            writer.rollbackGroup()

            // Retention cuts through a moved block and keeps the rest exact.
            #expect(try writer.deleteEvents(upTo: 1000) == 1000)
            #expect(try reader.events(after: 0, limit: 100_000) == Array(expected[1000...]))
            writer.close()
        }
    }

    @Test func aRolledBackGroupLeavesNeitherTemplatesNorMovedEvents() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try writer.beginGroup()
            for n in 0..<2000 {
                try writer.stageEvent(transaction: 4, subtransaction: 4, template: Self.template(n), gaps: Self.gaps)
            }
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x100), flushLSN: LSN(0x128)))
            // The commit's group is cut off before COMMIT, as by kill -9.
            try writer.beginGroup()
            #expect(try writer.commitStagedEvents(transaction: 4, completion: Self.completion(0x900)) == 2000)
            writer.rollbackGroup()
            writer.close()

            let reopened = try EventStoreWriter(path: path)
            #expect(reopened.lastSequence == 0)
            #expect(try EventStoreReader(path: path).events(after: 0, limit: 10).isEmpty)
            // What the first group staged is still there, until a new session discards it.
            try reopened.beginGroup()
            #expect(try reopened.commitStagedEvents(transaction: 4, completion: Self.completion(0x900)) == 2000)
            reopened.rollbackGroup()
            try reopened.discardAllStaged()
            try reopened.beginGroup()
            #expect(try reopened.commitStagedEvents(transaction: 4, completion: Self.completion(0x900)) == 0)
            reopened.rollbackGroup()
            reopened.close()
        }
    }

    @Test func gapsOutsideTheTemplateAreRefusedOrReportedCorrupt() throws {
        #expect(TemplateGaps(first: 5, second: 4) == nil)
        #expect(TemplateGaps(first: 0, second: 70_000) == nil)
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try writer.beginGroup()
            try writer.stageEvent(
                transaction: 4, subtransaction: 4, template: Array("short".utf8),
                gaps: TemplateGaps(first: 2, second: 90)!)
            try writer.commitStagedEvents(transaction: 4, completion: Self.completion(0x900))
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x900), flushLSN: LSN(0x928)))
            #expect(throws: EventStoreError.self) { try EventStoreReader(path: path).events(after: 0, limit: 10) }
            writer.close()
        }
    }
}
