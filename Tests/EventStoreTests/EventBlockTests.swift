// Blocks: the frame round trip, frames that must be refused, LZ4 both ways,
// and the writer and readers on blocks: reads starting at any sequence,
// lookups and retention in the middle of a block, compression on disk.

import PostgresWire
import Testing

@testable import EventStore

@Suite struct EventBlockTests {
    @Test func aFrameGivesBackEveryEventByPosition() throws {
        var builder = EventBlockBuilder()
        let bodies: [[UInt8]] = [Array("first".utf8), [], Array(repeating: 7, count: 3000), Array("last".utf8)]
        for (ordinal, body) in bodies.enumerated() {
            body.withUnsafeBytes {
                builder.add(commitLSN: LSN(0x1000 + UInt64(ordinal)), ordinal: Int32(ordinal), body: $0)
            }
        }
        let frame = try builder.withFrame { (bytes) throws(EventStoreError) in Array(bytes) }
        #expect(builder.isEmpty)
        let decoded = try #require(
            frame.withUnsafeBytes { bytes in
                EventBlockFrame(bytes).map { frame in
                    (0..<frame.count).map { (frame.commitLSN($0), frame.ordinal($0), Array(frame.body($0))) }
                }
            })
        #expect(decoded.map(\.0) == (0..<4).map { LSN(0x1000 + UInt64($0)) })
        #expect(decoded.map(\.1) == [0, 1, 2, 3])
        #expect(decoded.map(\.2) == bodies)
    }

    @Test func damagedFramesAreRefused() throws {
        var builder = EventBlockBuilder()
        for ordinal: Int32 in 0..<3 {
            Array("body \(ordinal)".utf8).withUnsafeBytes { builder.add(commitLSN: LSN(1), ordinal: ordinal, body: $0) }
        }
        let frame = try builder.withFrame { (bytes) throws(EventStoreError) in Array(bytes) }
        frame.withUnsafeBytes { #expect(EventBlockFrame($0) != nil) }
        // Cut short, an impossible count, an end offset past the bodies.
        Array(frame.dropFirst()).withUnsafeBytes { #expect(EventBlockFrame($0) == nil) }
        var count = frame
        count[count.count - 4] = 200
        count.withUnsafeBytes { #expect(EventBlockFrame($0) == nil) }
        var offset = frame
        offset[offset.count - 4 - 16 + 12] = 0xFF
        offset.withUnsafeBytes { #expect(EventBlockFrame($0) == nil) }
        [UInt8]().withUnsafeBytes { #expect(EventBlockFrame($0) == nil) }
    }

    @Test func lz4RoundTripsAndLeavesIncompressibleFramesAlone() {
        let text = Array(String(repeating: #"{"op":"c","after":{"id":1,"label":"row"}}"#, count: 200).utf8)
        var packed: [UInt8] = []
        let length = text.withUnsafeBytes { BlockCodec.compress($0, into: &packed) }
        #expect(length != nil && length! < text.count / 4)
        var restored: [UInt8] = []
        let ok = packed.withUnsafeBytes {
            BlockCodec.decompress(
                UnsafeRawBufferPointer(rebasing: $0[..<length!]), rawBytes: text.count, into: &restored)
        }
        #expect(ok)
        #expect(Array(restored[..<text.count]) == text)

        var generator = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(noise.withUnsafeBytes { BlockCodec.compress($0, into: &packed) } == nil)
    }

    /// 3 groups: 2,000 events of one transaction (many blocks), 1 event, 700 events.
    private func writeBlocks(_ path: String) throws -> [EventID] {
        let writer = try EventStoreWriter(path: path)
        defer { writer.close() }
        var ids: [EventID] = []
        for (lsn, count) in [(UInt64(0x1000), 2000), (0x2000, 1), (0x3000, 700)] {
            try writer.beginGroup()
            for ordinal in Int32(0)..<Int32(count) {
                let sequence = try writer.append(commitLSN: LSN(lsn), ordinal: ordinal, body: rowBody(lsn, ordinal))
                #expect(sequence == Int64(ids.count + 1))
                ids.append(EventID(commitLSN: LSN(lsn), ordinal: ordinal))
            }
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(lsn), flushLSN: LSN(lsn + 0x28)))
        }
        return ids
    }

    @Test func readersStartAtAnySequenceAndFindAnyEvent() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let ids = try writeBlocks(path)
            let reader = try EventStoreReader(path: path)
            let all = try reader.events(after: 0, limit: 10_000, maxBytes: .max)
            #expect(all.map(\.sequence) == Array(1...Int64(ids.count)))
            #expect(all.map { EventID(commitLSN: $0.commitLSN, ordinal: $0.ordinal) } == ids)
            #expect(all.allSatisfy { $0.body == rowBody($0.commitLSN.rawValue, $0.ordinal) })
            for start in [0, 1, 150, 999, 2000, 2001, 2350, 2700] as [Int64] {
                let page = try reader.events(after: start, limit: 37)
                #expect(page.map(\.sequence) == Array((start + 1)...min(start + 37, 2701)))
            }
            // Byte caps end a page inside a block, and the next page goes on from there.
            var cursor: Int64 = 0
            var pages = 0
            while cursor < 2701 {
                let page = try reader.events(after: cursor, limit: 10_000, maxBytes: 10_000)
                #expect(page.first?.sequence == cursor + 1)
                cursor = page.last!.sequence
                pages += 1
            }
            #expect(pages > 10)
            for sequence in [1, 777, 2000, 2001, 2002, 2701] as [Int64] {
                #expect(try reader.sequence(of: ids[Int(sequence) - 1]) == sequence)
            }
            #expect(try reader.sequence(of: EventID(commitLSN: LSN(0x3000), ordinal: 700)) == nil)
        }
    }

    @Test func retentionCutsThroughABlockExactly() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let ids = try writeBlocks(path)
            let writer = try EventStoreWriter(path: path)
            #expect(try writer.deleteEvents(upTo: 1234) == 1234)
            let reader = try EventStoreReader(path: path)
            #expect(try reader.firstSequence() == 1235)
            let rest = try reader.events(after: 0, limit: 10_000, maxBytes: .max)
            #expect(rest.map(\.sequence) == Array(1235...2701))
            #expect(rest.allSatisfy { $0.body == rowBody($0.commitLSN.rawValue, $0.ordinal) })
            #expect(try reader.sequence(of: ids[1234]) == 1235)
            #expect(try reader.sequence(of: ids[1233]) == nil)
            #expect(try writer.deleteEvents(upTo: 2001) == 767)
            #expect(try reader.events(after: 2001, limit: 1).first?.sequence == 2002)
            // Sequences go on from the checkpoint, after the deleted ones.
            try writer.beginGroup()
            #expect(try writer.append(commitLSN: LSN(0x4000), ordinal: 0, body: rowBody(0x4000, 0)) == 2702)
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x4000), flushLSN: LSN(0x4028)))
            #expect(try writer.deleteEvents(upTo: 2702) == 701)
            #expect(try reader.firstSequence() == nil)
            #expect(try reader.lastSequence() == 2702)
        }
    }

    @Test func aRolledBackGroupLeavesNoBlockBehind() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try writer.beginGroup()
            // Enough for several full blocks to be written inside the group.
            for ordinal in Int32(0)..<1500 {
                try writer.append(commitLSN: LSN(0x1000), ordinal: ordinal, body: rowBody(0x1000, ordinal))
            }
            writer.rollbackGroup()
            try writer.beginGroup()
            #expect(try writer.append(commitLSN: LSN(0x2000), ordinal: 0, body: rowBody(0x2000, 0)) == 1)
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x2000), flushLSN: LSN(0x2028)))
            let events = try EventStoreReader(path: path).events(after: 0, limit: 10_000)
            #expect(events.map(\.sequence) == [1])
            #expect(events.first?.commitLSN == LSN(0x2000))
        }
    }

    @Test func theFileHoldsAFractionOfTheJSON() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            var json = 0
            for group in 0..<20 {
                try writer.beginGroup()
                let lsn = UInt64(0x10000 * (group + 1))
                for ordinal in Int32(0)..<1000 {
                    let body = rowBody(lsn, ordinal)
                    json += body.count + 1
                    try writer.append(commitLSN: LSN(lsn), ordinal: ordinal, body: body)
                }
                try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(lsn), flushLSN: LSN(lsn)))
            }
            // Row per event took about 1.1 times the JSON; LZ4 blocks of such rows a quarter.
            #expect(try writer.databaseBytes() < Int64(json / 2))
        }
    }
}

/// A change event shaped like the pipeline's, different for every event.
private func rowBody(_ lsn: UInt64, _ ordinal: Int32) -> [UInt8] {
    let id = Int(lsn) + Int(ordinal)
    return Array(
        #"{"id":"\#(LSN(lsn)):\#(ordinal)","op":"c","source":{"schema":"public","table":"t","commit_lsn":"\#(LSN(lsn))"},"after":{"id":\#(id),"label":"row \#(id) \#(id * 7919 % 104729)","amount":"\#(id).25"}}"#
            .utf8)
}
