// The stream machine without Postgres: replay skipping, group boundaries and
// limits, status updates, keepalives and the idle advance (DESIGN §4).

import EventStore
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct StreamMachineTests {
    typealias F = PgOutputFrames

    /// Feeds one ordinary transaction of `ids` inserts committed at `commit`.
    static func transaction(_ harness: inout MachineHarness, commit: UInt64, ids: [Int]) throws {
        try harness.feed(F.begin(commit: commit), at: commit - 0x10)
        for id in ids { try harness.feed(F.insert(id), at: commit - 0x8) }
        try harness.feed(F.commit(commit), at: commit)
    }

    @Test func skipsTransactionsAtAndBelowTheCheckpoint() throws {
        var harness = MachineHarness(checkpoint: Checkpoint(lastCommitLSN: LSN(0x2000), flushLSN: LSN(0x2028)))
        try harness.feed(F.relation(), at: 0x500)
        try Self.transaction(&harness, commit: 0x1000, ids: [1])
        try Self.transaction(&harness, commit: 0x2000, ids: [2])
        try Self.transaction(&harness, commit: 0x3000, ids: [3, 4])
        try harness.drained()
        #expect(harness.stored == ["0/3000:0", "0/3000:1"])
        #expect(harness.checkpoint == Checkpoint(lastCommitLSN: LSN(0x3000), flushLSN: LSN(0x3028)))
    }

    /// Group limits far away, so only the boundaries decide.
    static let unlimited = StreamMachine.Settings(groupCommit: .init(maxEvents: 1_000_000, maxDelay: .seconds(3600)))

    @Test func commitsAGroupOnlyAtATransactionBoundaryOnceDrained() throws {
        var harness = MachineHarness(settings: Self.unlimited)
        try harness.feed(F.relation(), at: 0x500)
        try Self.transaction(&harness, commit: 0x1000, ids: [1, 2])
        try harness.feed(F.begin(commit: 0x2000), at: 0x1f00)
        try harness.feed(F.insert(3), at: 0x1f10)
        // Mid-transaction: nothing may be committed, however long it takes.
        #expect(try harness.drained(after: .seconds(5)).map(\.name) == [])
        #expect(harness.stored.isEmpty)
        try harness.feed(F.commit(0x2000), at: 0x2000)
        #expect(harness.stored.isEmpty)
        let actions = try harness.drained()
        #expect(actions.map(\.name) == ["commit 0/2000/0/2028", "status 0/2028"])
        #expect(harness.stored == ["0/1000:0", "0/1000:1", "0/2000:0"])
        guard case .commitGroup(let summary, _) = actions.first else { return }
        #expect(summary.events == 3 && summary.transactions == 2)
    }

    @Test func commitsWhenTheGroupReachesItsSizeLimit() throws {
        var harness = MachineHarness(settings: .init(groupCommit: .init(maxEvents: 3, maxDelay: .seconds(60))))
        try harness.feed(F.relation(), at: 0x500)
        try Self.transaction(&harness, commit: 0x1000, ids: [1, 2])
        #expect(harness.stored.isEmpty)
        try harness.feed(F.begin(commit: 0x2000), at: 0x1f00)
        for id in 3...6 { try harness.feed(F.insert(id), at: 0x1f10) }
        // Over the limit, but inside a transaction.
        #expect(harness.stored.isEmpty)
        try harness.feed(F.commit(0x2000), at: 0x2000)
        #expect(harness.stored.count == 6)
        #expect(harness.checkpoint.lastCommitLSN == LSN(0x2000))
    }

    @Test func commitsWhenTheGroupReachesItsAgeLimit() throws {
        var harness = MachineHarness(settings: .init(groupCommit: .init(maxEvents: 1000, maxDelay: .milliseconds(50))))
        try harness.feed(F.relation(), at: 0x500)
        try Self.transaction(&harness, commit: 0x1000, ids: [1])
        try harness.tick(after: .milliseconds(40))
        try Self.transaction(&harness, commit: 0x2000, ids: [2])
        #expect(harness.stored.isEmpty)
        try harness.tick(after: .milliseconds(20))
        try Self.transaction(&harness, commit: 0x3000, ids: [3])
        #expect(harness.stored == ["0/1000:0", "0/2000:0", "0/3000:0"])
    }

    @Test func answersAKeepaliveOnlyWhenAsked() throws {
        var harness = MachineHarness()
        #expect(try harness.feed(F.keepalive(walEnd: 0x100, reply: false)).isEmpty)
        let actions = try harness.feed(F.keepalive(walEnd: 0x100, reply: true))
        #expect(actions.map(\.name) == ["status 0/100"])
    }

    @Test func advancesWhenIdleButNeverPastAnOpenGroup() throws {
        var harness = MachineHarness(settings: Self.unlimited)
        try harness.feed(F.relation(), at: 0x500)
        try Self.transaction(&harness, commit: 0x1000, ids: [1])
        // A group is open (not drained yet): the reply carries the old position only.
        #expect(try harness.feed(F.keepalive(walEnd: 0x9000, reply: true)).map(\.name) == ["status 0/100"])
        // Inside a transaction: no advance either.
        try harness.feed(F.begin(commit: 0x2000), at: 0x1f00)
        try harness.feed(F.insert(2), at: 0x1f10)
        #expect(try harness.drained(after: .seconds(2)).map(\.name) == [])
        try harness.feed(F.commit(0x2000), at: 0x2000)
        // Drained: the group commits, then the position advances.
        #expect(
            try harness.drained().map(\.name)
                == ["commit 0/2000/0/2028", "status 0/2028", "save 0/9000", "status 0/9000"])
        #expect(harness.checkpoint == Checkpoint(lastCommitLSN: LSN(0x2000), flushLSN: LSN(0x9000)))
        // The next advance waits for its interval.
        try harness.feed(F.keepalive(walEnd: 0xA000, reply: false))
        #expect(try harness.drained(after: .milliseconds(500)).map(\.name) == [])
        #expect(try harness.drained(after: .milliseconds(600)).map(\.name) == ["save 0/A000", "status 0/A000"])
    }

    @Test func aReplyRequestForcesTheIdleAdvance() throws {
        var harness = MachineHarness()
        let actions = try harness.feed(F.keepalive(walEnd: 0x4000, reply: true))
        #expect(actions.map(\.name) == ["status 0/100", "save 0/4000", "status 0/4000"])
    }

    @Test func filteredTransactionsAdvanceLikeAnIdleStream() throws {
        var harness = MachineHarness()
        try harness.feed(F.relation(oid: 99, name: "ignored"), at: 0x500)
        try harness.feed(F.begin(commit: 0x1000), at: 0xf00)
        try harness.feed(F.insert(1, oid: 99), at: 0xf10)
        try harness.feed(F.commit(0x1000), at: 0x1000)
        #expect(try harness.drained(after: .seconds(1)).map(\.name) == ["save 0/1028", "status 0/1028"])
        #expect(harness.stored.isEmpty)
    }

    @Test func sendsAStatusUpdateEveryInterval() throws {
        var harness = MachineHarness(settings: .init(statusInterval: .seconds(10)))
        #expect(try harness.tick(after: .seconds(9)).isEmpty)
        #expect(try harness.tick(after: .seconds(1)).map(\.name) == ["status 0/100"])
        #expect(try harness.tick(after: .seconds(1)).isEmpty)
    }

    @Test func stopKeepsCompleteTransactionsAndDropsAHalfReceivedOne() throws {
        var harness = MachineHarness()
        try harness.feed(F.relation(), at: 0x500)
        try Self.transaction(&harness, commit: 0x1000, ids: [1])
        try harness.feed(F.begin(commit: 0x2000), at: 0x1f00)
        try harness.feed(F.insert(2), at: 0x1f10)
        #expect(try harness.finish().map(\.name) == ["rollback", "status 0/100"])
        #expect(harness.stored.isEmpty)

        var complete = MachineHarness()
        try complete.feed(F.relation(), at: 0x500)
        try Self.transaction(&complete, commit: 0x1000, ids: [1])
        #expect(try complete.finish().map(\.name) == ["commit 0/1000/0/1028", "status 0/1028", "status 0/1028"])
        #expect(complete.stored == ["0/1000:0"])
    }

    @Test func asksForEachRelationsSchemaBeforeItsChanges() throws {
        var harness = MachineHarness()
        #expect(try harness.feed(F.relation(), at: 0x500).map(\.name) == ["schema users"])
        try Self.transaction(&harness, commit: 0x1000, ids: [1])
        try harness.drained()
        #expect(harness.storedOperations == ["c"])
    }

    @Test func aBoundedRunEndsOnceItsEndIsDurable() throws {
        var harness = MachineHarness(settings: .init(endLSN: LSN(0x1028)))
        try harness.feed(F.relation(), at: 0x500)
        try Self.transaction(&harness, commit: 0x1000, ids: [1])
        #expect(!harness.machine.reachedEnd)
        try harness.drained()
        #expect(harness.machine.reachedEnd)
    }
}
