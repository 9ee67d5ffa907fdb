// Streamed transactions through the stream machine (protocol 2, DESIGN §4
// invariant 6): staging, replay on Stream Commit, Stream Abort of a whole
// transaction or one subtransaction, a session restarting mid-stream, and
// the recorded stream of a real PostgreSQL 15.

import EventStore
import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct StreamMachineStreamingTests {
    typealias F = PgOutputFrames

    /// One chunk of transaction `xid`: Stream Start, the inserts (each by
    /// its subtransaction), Stream Stop.
    static func chunk(
        _ harness: inout MachineHarness, xid: UInt32, first: Bool, inserts: [(id: Int, sub: UInt32)], at lsn: UInt64
    ) throws {
        try harness.feed(F.streamStart(xid: xid, first: first), at: lsn)
        if first { try harness.feed(F.relation(xid: xid), at: lsn) }
        for (offset, insert) in inserts.enumerated() {
            try harness.feed(F.insert(insert.id, xid: insert.sub), at: lsn + UInt64(offset + 1) * 0x10)
        }
        try harness.feed(F.streamStop(), at: lsn + 0x800)
    }

    @Test func stagesChunksAndReplaysThemOnStreamCommit() throws {
        var harness = MachineHarness()
        try Self.chunk(&harness, xid: 9, first: true, inserts: [(1, 9), (2, 9)], at: 0x1000)
        try Self.chunk(&harness, xid: 10, first: true, inserts: [(100, 10)], at: 0x2000)
        try Self.chunk(&harness, xid: 9, first: false, inserts: [(3, 9)], at: 0x3000)
        // Each transaction's Relation is staged with its rows.
        #expect(harness.staged[9]?.count == 4 && harness.staged[10]?.count == 2)
        #expect(harness.stored.isEmpty)
        let actions = try harness.feed(F.streamCommit(xid: 9, commit: 0x5000), at: 0x5000)
        #expect(
            actions.map(\.name) == [
                "replay 9", "schema users", "append 0/5000:0", "append 0/5000:1", "append 0/5000:2", "discard 9",
            ])
        #expect(harness.staged[9] == nil && harness.staged[10]?.count == 2)
        try harness.drained()
        #expect(harness.stored == ["0/5000:0", "0/5000:1", "0/5000:2"])
        #expect(harness.checkpoint == Checkpoint(lastCommitLSN: LSN(0x5000), flushLSN: LSN(0x5028)))
    }

    @Test func abortDropsTheTransactionOrOnlyItsSubtransaction() throws {
        var harness = MachineHarness()
        try Self.chunk(&harness, xid: 9, first: true, inserts: [(1, 9), (2, 11), (3, 12)], at: 0x1000)
        try Self.chunk(&harness, xid: 20, first: true, inserts: [(50, 20)], at: 0x2000)
        try harness.feed(F.streamAbort(xid: 9, subtransaction: 11), at: 0x3000)
        try harness.feed(F.streamAbort(xid: 20), at: 0x3100)
        try harness.feed(F.streamCommit(xid: 9, commit: 0x4000), at: 0x4000)
        try harness.drained()
        #expect(harness.stored == ["0/4000:0", "0/4000:1"])
        #expect(harness.staged.isEmpty)
    }

    @Test func aStreamedReplayOfAStoredTransactionIsNotReadBack() throws {
        var harness = MachineHarness(checkpoint: Checkpoint(lastCommitLSN: LSN(0x5000), flushLSN: LSN(0x5028)))
        try Self.chunk(&harness, xid: 9, first: true, inserts: [(1, 9)], at: 0x1000)
        let atCheckpoint = try harness.feed(F.streamCommit(xid: 9, commit: 0x5000), at: 0x5000)
        #expect(atCheckpoint.map(\.name) == ["discard 9"])
        try Self.chunk(&harness, xid: 8, first: true, inserts: [(2, 8)], at: 0x800)
        #expect(try harness.feed(F.streamCommit(xid: 8, commit: 0x4000), at: 0x4000).map(\.name) == ["discard 8"])
        try harness.drained()
        #expect(harness.stored.isEmpty)
    }

    @Test func aSessionThatRestartsMidStreamStoresTheTransactionOnce() throws {
        var harness = MachineHarness()
        try harness.feed(F.relation(), at: 0x500)
        try StreamMachineTests.transaction(&harness, commit: 0x800, ids: [7])
        try harness.drained()
        try Self.chunk(&harness, xid: 9, first: true, inserts: [(1, 9), (2, 9)], at: 0x1000)
        // The connection drops here; Postgres streams the transaction again
        // from its start to the next session.
        harness.restart()
        try Self.chunk(&harness, xid: 9, first: true, inserts: [(1, 9), (2, 9)], at: 0x1000)
        try Self.chunk(&harness, xid: 9, first: false, inserts: [(3, 9)], at: 0x2000)
        try harness.feed(F.streamCommit(xid: 9, commit: 0x5000), at: 0x5000)
        try harness.drained()
        #expect(harness.stored == ["0/800:0", "0/5000:0", "0/5000:1", "0/5000:2"])
    }

    /// Issue 11 item 10: an abort on an otherwise idle database must not
    /// leave a group open that holds back the idle advance.
    @Test func theSlotKeepsAdvancingAfterAStreamedTransactionAborts() throws {
        var harness = MachineHarness()
        try Self.chunk(&harness, xid: 9, first: true, inserts: [(1, 9)], at: 0x1000)
        try harness.feed(F.streamAbort(xid: 9), at: 0x2000)
        try harness.drained()
        #expect(!harness.groupOpen)
        try harness.feed(F.keepalive(walEnd: 0x3000, reply: false))
        let actions = try harness.drained(after: .seconds(1))
        #expect(actions.map(\.name) == ["save 0/3000", "status 0/3000"])
    }

    @Test func aGroupWithAStreamedTransactionInFlightStaysOpen() throws {
        var harness = MachineHarness()
        try Self.chunk(&harness, xid: 9, first: true, inserts: [(1, 9)], at: 0x1000)
        try Self.chunk(&harness, xid: 10, first: true, inserts: [(2, 10)], at: 0x1100)
        try harness.feed(F.streamAbort(xid: 10), at: 0x2000)
        try harness.feed(F.keepalive(walEnd: 0x3000, reply: false))
        #expect(try harness.drained(after: .seconds(2)).map(\.name) == [])
        #expect(harness.groupOpen)
    }

    /// The stream recorded from PostgreSQL 15 (Tests/PgOutputTests/Fixtures/
    /// protocol-v2-streaming.sql): a small transaction, a streamed one that
    /// commits, one that rolls back, one rolled back to a savepoint.
    @Test func storesTheRecordedStreamExactly() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../PgOutputTests/Fixtures/protocol-v2-streaming.hex")
        var harness = MachineHarness()
        var frames = 0
        for line in try String(contentsOf: fixture, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            let lsn = try #require(LSN(String(fields[0])))
            try harness.feed(PgOutputFrames.xLog(Self.bytes(fields[2]), at: lsn.rawValue))
            frames += 1
        }
        try harness.drained()
        #expect(frames > 1000)
        let operations = harness.storedOperations
        #expect(operations.count == 1 + 2000 + 600 + 300 + 1 + 400)
        #expect(operations.filter { $0 == "c" }.count == 1 + 2000 + 400)
        #expect(operations.filter { $0 == "u" }.count == 600)
        #expect(operations.filter { $0 == "d" }.count == 300)
        #expect(operations.filter { $0 == "t" }.count == 1)
        #expect(Set(harness.stored).count == harness.stored.count)
        #expect(harness.staged.isEmpty)
        #expect(!harness.groupOpen)
    }

    static func bytes(_ hex: Substring) -> [UInt8] {
        func nibble(_ digit: UInt8) -> UInt8 { digit <= 0x39 ? digit - 0x30 : (digit | 0x20) - 0x61 + 10 }
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
    }
}
