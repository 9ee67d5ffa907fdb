// A change of the captured table set through the stream machine: nothing
// happens until its marker comes through; then the `s` events, the new set
// and the backfill's plan go into the marker's group, and the backfill's
// first piece is asked for once the transaction is over.

import EventStore
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct StreamMachineTableSetTests {
    typealias F = PgOutputFrames

    static func usersTable() -> SnapshotPlan.Table { StreamMachineWatermarkTests.usersTable() }

    static func change(
        token: String, added: [SnapshotPlan.Table] = [], removed: [String] = [], backfill: Bool = true
    ) -> TableSetChange {
        let chunks =
            backfill
            ? added.enumerated().map { index, table in
                SnapshotChunk(
                    id: Int64(index), schema: table.schema.relation.namespace, table: table.schema.relation.name,
                    relfilenode: table.relfilenode, firstPage: 0, endPage: nil)
            } : []
        return TableSetChange(
            token: token, added: added, removed: removed, chunks: chunks, tables: CapturedTables(added.map(\.name)))
    }

    /// A harness whose machine numbers and announces schema versions, as a pipeline's does.
    static func harness(settings: StreamMachine.Settings = .init()) -> MachineHarness {
        var harness = MachineHarness(settings: settings)
        harness.machine = StreamMachine(
            protocolVersion: 2, database: "app", checkpoint: harness.checkpoint, start: harness.checkpoint.flushLSN,
            settings: settings, watermark: nil, now: harness.now, schemaRegistry: SchemaRegistry())
        return harness
    }

    static func marker(_ harness: inout MachineHarness, _ content: String, commit: UInt64) throws -> [StreamAction] {
        var actions = try harness.feed(F.begin(commit: commit), at: commit - 0x10)
        actions += try harness.feed(
            F.logical(prefix: ChangeAssembler.watermarkPrefix, content: content, at: commit - 0x8), at: commit - 0x8)
        actions += try harness.feed(F.commit(commit), at: commit)
        return actions
    }

    static func bodies(_ actions: [StreamAction]) -> [String] {
        actions.compactMap { action in
            guard case .append(let record) = action else { return nil }
            return String(decoding: record.body, as: UTF8.self)
        }
    }

    @Test func theChangeTakesEffectAtItsMarkerAndStartsTheBackfill() throws {
        var harness = Self.harness()
        harness.pieceRows = [StreamMachineWatermarkTests.row(1, "a")]
        harness.machine.tableSetChanging(Self.change(token: "k", added: [Self.usersTable()]))
        // An ordinary transaction before the marker changes nothing.
        #expect(try Self.marker(&harness, "low:other", commit: 0x1000).isEmpty)
        #expect(harness.machine.tableSetChange != nil)

        let actions = try Self.marker(&harness, "tables:k", commit: 0x2000)
        // The backfill's first piece is asked for as soon as the marker's transaction is over.
        #expect(
            actions.map(\.name) == ["begin", "version users 1", "append 0/2000:0", "tables public.users", "piece 0"])
        let body = try #require(Self.bodies(actions).first)
        #expect(body.contains(#""op":"s""#) && body.contains(#""capture":"started""#), "\(body)")
        #expect(harness.machine.tableSetChange == nil)
        #expect(harness.machine.watermark != nil)
        #expect(try harness.drained().map(\.name).first == "commit 0/2000/0/2028")
        #expect(harness.stored == ["0/2000:0"])
    }

    /// A harness whose stream has announced `users` (version 1) with a
    /// transaction committed at 0/1000.
    static func harnessWithUsersAnnounced() throws -> MachineHarness {
        var harness = Self.harness()
        try harness.feed(F.begin(commit: 0x1000), at: 0xff0)
        try harness.feed(F.relation(), at: 0xff4)
        try harness.feed(F.insert(1), at: 0xff8)
        try harness.feed(F.commit(0x1000), at: 0x1000)
        return harness
    }

    @Test func aTableAnnouncedBeforeIsAnnouncedAgainWithoutANewVersion() throws {
        var harness = try Self.harnessWithUsersAnnounced()
        harness.machine.tableSetChanging(Self.change(token: "k", added: [Self.usersTable()], backfill: false))
        let actions = try Self.marker(&harness, "tables:k", commit: 0x2000)
        // No "version" action: the registry has version 1 already.
        #expect(actions.map(\.name) == ["append 0/2000:0", "tables public.users"])
        #expect(Self.bodies(actions).first?.contains(#""capture":"started""#) == true)
        // Without a backfill there is no load to run.
        #expect(harness.machine.watermark == nil)
    }

    @Test func aRemovedTableGetsAStoppedEventOnlyWhenItWasAnnounced() throws {
        var harness = try Self.harnessWithUsersAnnounced()
        harness.machine.tableSetChanging(Self.change(token: "k", removed: ["public.users", "public.never_seen"]))
        let actions = try Self.marker(&harness, "tables:k", commit: 0x2000)
        let bodies = Self.bodies(actions)
        #expect(bodies.count == 1)
        #expect(bodies.first?.contains(#""capture":"stopped""#) == true)
        #expect(bodies.first?.contains(#""table":"users""#) == true)
        #expect(actions.map(\.name).last == "tables ")
        // From the marker on, its changes are not captured.
        try harness.feed(F.begin(commit: 0x3000), at: 0x2ff0)
        #expect(Self.bodies(try harness.feed(F.insert(2), at: 0x2ff8)).isEmpty)
        try harness.feed(F.commit(0x3000), at: 0x3000)
        try harness.drained()
        #expect(harness.storedOperations == ["s", "c", "s"])
    }

    @Test func anOnDemandBackfillHasNoSchemaEventAndItsRowsNameIt() throws {
        var harness = Self.harness()
        harness.pieceRows = [StreamMachineWatermarkTests.row(1, "a")]
        var change = Self.change(token: "k", added: [Self.usersTable()])
        var backfill = Backfill(id: "bf_1", tables: ["public.users"], requestedAt: 0)
        backfill.chunks = change.chunks.map(\.id)
        change = TableSetChange(
            token: change.token, added: change.added, removed: [], chunks: change.chunks, tables: change.tables,
            backfills: [backfill])
        change.startsCapture = false
        harness.machine.tableSetChanging(change)
        let actions = try Self.marker(&harness, "tables:k", commit: 0x2000)
        #expect(actions.map(\.name) == ["begin", "tables public.users", "piece 0"])
        try harness.drained()
        _ = try Self.marker(&harness, "low:k-1", commit: 0x3000)
        var high = try harness.feed(F.begin(commit: 0x4000), at: 0x3ff0)
        high += try harness.feed(
            F.logical(prefix: ChangeAssembler.watermarkPrefix, content: "high:k-1", at: 0x3ff8), at: 0x3ff8)
        let rows = Self.bodies(high).filter { $0.contains(#""op":"r""#) }
        #expect(rows.count == 1)
        #expect(rows.first?.contains(#""snapshot":true,"backfill":"bf_1"}"#) == true, "\(rows)")
    }

    /// `users` added with a backfill of one row, whose first piece's
    /// window is open: its low watermark is through, its high one is not.
    static func backfillWithItsWindowOpen() throws -> MachineHarness {
        var harness = Self.harness()
        harness.pieceRows = [StreamMachineWatermarkTests.row(1, "a")]
        harness.machine.tableSetChanging(Self.change(token: "k", added: [Self.usersTable()]))
        _ = try Self.marker(&harness, "tables:k", commit: 0x2000)
        try harness.drained()
        _ = try Self.marker(&harness, "low:k-1", commit: 0x3000)
        return harness
    }

    @Test func aTableThatStopsBeingCapturedStopsItsBackfillAtTheMarker() throws {
        // Its first piece's window is open when the table stops matching.
        var harness = try Self.backfillWithItsWindowOpen()
        harness.machine.tableSetChanging(Self.change(token: "gone", removed: ["public.users"]))
        let stop = try Self.marker(&harness, "tables:gone", commit: 0x4000)
        #expect(stop.map(\.name).contains("progress 0 rows 0 done"), "\(stop.map(\.name))")
        #expect(stop.map(\.name).contains("snapshot done"), "\(stop.map(\.name))")
        try harness.drained()
        #expect(harness.machine.watermark == nil)
        // Its high watermark stores nothing.
        #expect(Self.bodies(try Self.marker(&harness, "high:k-1", commit: 0x5000)).isEmpty)
        #expect(harness.storedOperations == ["s", "s"])
    }

    @Test func aCancelStopsTheBackfillAtItsMarkerAndSaysWhere() throws {
        var harness = try Self.backfillWithItsWindowOpen()
        // Cancelled while its window is open: the table stays captured, the backfill stops.
        var cancel = TableSetChange(
            token: "stop", added: [], removed: [], chunks: [], tables: CapturedTables(["public.users"]))
        cancel.startsCapture = false
        cancel.cancels = ["bf_1"]
        cancel.cancelledChunks = [0]
        harness.machine.tableSetChanging(cancel)
        let stop = try Self.marker(&harness, "tables:stop", commit: 0x4000)
        #expect(Self.bodies(stop).isEmpty, "no s event: nothing stops being captured")
        #expect(stop.map(\.name).contains("progress 0 rows 0 done"), "\(stop.map(\.name))")
        let recorded = stop.compactMap { action -> TableSetChange? in
            if case .recordTableSet(let change) = action { return change }
            return nil
        }
        #expect(recorded.first?.at == LSN(0x4000), "the marker transaction's commit LSN")
        try harness.drained()
        #expect(harness.machine.watermark == nil)
        #expect(Self.bodies(try Self.marker(&harness, "high:k-1", commit: 0x5000)).isEmpty)
        // Changes of the table still come.
        try harness.feed(F.begin(commit: 0x6000), at: 0x5ff0)
        try harness.feed(F.relation(), at: 0x5ff4)
        #expect(!Self.bodies(try harness.feed(F.insert(2), at: 0x5ff8)).isEmpty)
    }

    @Test func aMarkerOfAnotherChangeIsIgnored() throws {
        var harness = Self.harness()
        harness.machine.tableSetChanging(Self.change(token: "mine", added: [Self.usersTable()]))
        let actions = try Self.marker(&harness, "tables:earlier-process", commit: 0x2000)
        #expect(Self.bodies(actions).isEmpty)
        #expect(harness.machine.tableSetChange != nil)
    }

    @Test func aBoundedRunEndsOnlyOnceAPendingChangeIsApplied() throws {
        var harness = Self.harness(settings: .init(endLSN: LSN(0x100)))
        #expect(harness.machine.reachedEnd)
        harness.machine.tableSetChanging(Self.change(token: "k", removed: ["public.x"]))
        #expect(!harness.machine.reachedEnd)
        _ = try Self.marker(&harness, "tables:k", commit: 0x2000)
        try harness.drained()
        #expect(harness.machine.reachedEnd)
    }
}
