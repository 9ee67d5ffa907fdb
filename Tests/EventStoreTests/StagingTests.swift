// Staged streamed changes in blocks: arrival order per transaction across
// groups and full blocks, an aborted subtransaction's part dropped wherever
// it sits, and a rolled-back group taking what it staged with it.

import EventStore
import PostgresWire
import Testing

@Suite struct StagingTests {
    /// A pgoutput-sized message that names its transaction, subtransaction and place.
    private func message(_ xid: UInt32, _ subxid: UInt32, _ index: Int) -> [UInt8] {
        Array("I\(xid)/\(subxid)#\(index) ".utf8) + Array(repeating: UInt8(index % 251), count: 90)
    }

    private func staged(_ writer: EventStoreWriter, _ xid: UInt32) throws -> [[UInt8]] {
        var messages: [[UInt8]] = []
        try writer.forEachStaged(transaction: xid) { messages.append($0) }
        return messages
    }

    @Test func transactionsReadBackInArrivalOrderAcrossGroupsAndBlocks() throws {
        try withTemporaryDirectory { directory in
            let writer = try EventStoreWriter(path: directory + "/events.db")
            var expected: [UInt32: [[UInt8]]] = [:]
            // Three groups, two interleaved transactions, thousands of messages: many full blocks.
            for group in 0..<3 {
                try writer.beginGroup()
                for index in 0..<2000 {
                    let xid: UInt32 = index % 3 == 0 ? 700 : 701
                    let body = message(xid, xid, group * 2000 + index)
                    try writer.stage(transaction: xid, subtransaction: xid, message: body[...])
                    expected[xid, default: []].append(body)
                }
                try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: .zero, flushLSN: LSN(UInt64(group + 1))))
            }
            try writer.beginGroup()
            #expect(try staged(writer, 700) == expected[700])
            #expect(try staged(writer, 701) == expected[701])
            try writer.discardStaged(transaction: 700)
            #expect(try staged(writer, 700).isEmpty)
            #expect(try staged(writer, 701) == expected[701])
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: .zero, flushLSN: LSN(9)))
            try writer.discardAllStaged()
            try writer.beginGroup()
            #expect(try staged(writer, 701).isEmpty)
            writer.rollbackGroup()
        }
    }

    @Test func anAbortedSubtransactionIsDroppedFromWrittenAndGatheredBlocks() throws {
        try withTemporaryDirectory { directory in
            let writer = try EventStoreWriter(path: directory + "/events.db")
            var expected: [[UInt8]] = []
            try writer.beginGroup()
            // Subtransaction 801's messages sit in written blocks (the first 3000) and in the one being gathered.
            for index in 0..<3100 {
                let subxid: UInt32 = index % 4 == 1 ? 801 : (index % 4 == 2 ? 802 : 800)
                let body = message(800, subxid, index)
                try writer.stage(transaction: 800, subtransaction: subxid, message: body[...])
                if subxid != 801 { expected.append(body) }
            }
            try writer.discardStaged(transaction: 800, subtransaction: 801)
            #expect(try staged(writer, 800) == expected)
            // Everything of a subtransaction: its blocks are deleted, not left empty.
            try writer.discardStaged(transaction: 800, subtransaction: 802)
            #expect(
                try staged(writer, 800)
                    == expected.filter { !String(decoding: $0, as: UTF8.self).hasPrefix("I800/802") })
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: .zero, flushLSN: LSN(1)))
        }
    }

    @Test func aRolledBackGroupTakesWhatItStaged() throws {
        try withTemporaryDirectory { directory in
            let writer = try EventStoreWriter(path: directory + "/events.db")
            try writer.beginGroup()
            let kept = message(900, 900, 0)
            try writer.stage(transaction: 900, subtransaction: 900, message: kept[...])
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: .zero, flushLSN: LSN(1)))
            try writer.beginGroup()
            for index in 1..<1500 {
                try writer.stage(transaction: 900, subtransaction: 900, message: message(900, 900, index)[...])
            }
            writer.rollbackGroup()
            try writer.beginGroup()
            #expect(try staged(writer, 900) == [kept])
            writer.rollbackGroup()
        }
    }
}
