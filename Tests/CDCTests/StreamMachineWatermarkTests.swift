// The watermark window of a resumed snapshot through the stream machine:
// a piece's rows that the stream changes between its low and high
// watermarks are dropped, the others are stored at the high watermark.

import EventStore
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct StreamMachineWatermarkTests {
    typealias F = PgOutputFrames

    /// `public.users (id int, email text)`, key `id`, ten pages.
    static func usersTable() -> SnapshotPlan.Table {
        let relation = Relation(
            oid: F.usersOID, namespace: "public", name: "users", replicaIdentity: .full,
            columns: [
                .init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
                .init(isKey: false, name: "email", typeOID: 25, typeModifier: -1),
            ])
        let schema = TableSchema(relation: relation, kinds: [.integer, .text], keyColumns: ["id"], isCaptured: true)
        return SnapshotPlan.Table(schema: schema, relfilenode: 1, pages: 10, estimatedRows: 5, isPageAddressable: true)
    }

    static func watermark() -> WatermarkSnapshot {
        let chunk = SnapshotChunk(id: 0, schema: "public", table: "users", relfilenode: 1, firstPage: 0, endPage: nil)
        return WatermarkSnapshot(tables: [usersTable()], chunks: [chunk], tokenPrefix: "t")
    }

    static func row(_ id: Int, _ email: String) -> TupleData {
        TupleData(columns: [.text(ArraySlice(String(id).utf8)), .text(ArraySlice(email.utf8))])
    }

    /// A transaction holding one watermark message.
    static func watermark(_ harness: inout MachineHarness, _ content: String, commit: UInt64) throws {
        try harness.feed(F.begin(commit: commit), at: commit - 0x10)
        try harness.feed(
            F.logical(prefix: ChangeAssembler.watermarkPrefix, content: content, at: commit - 0x8), at: commit - 0x8)
        try harness.feed(F.commit(commit), at: commit)
    }

    @Test func rowsChangedInsideTheWindowAreDroppedAndTheOthersKept() throws {
        var harness = MachineHarness(watermark: Self.watermark())
        harness.pieceRows = (1...5).map { Self.row($0, "v") }
        // The first piece is asked for between transactions, at once.
        #expect(try harness.feed(F.relation(), at: 0x500).map(\.name) == ["schema users", "piece 0"])
        // Before the low watermark: the SELECT saw this change already.
        try harness.feed(F.begin(commit: 0x1000), at: 0xf00)
        try harness.feed(F.update(1, from: "v", to: "before"), at: 0xf10)
        try harness.feed(F.commit(0x1000), at: 0x1000)
        try Self.watermark(&harness, "low:t-1", commit: 0x2000)
        // Inside the window: row 2 updated, row 3 deleted, a row of no piece inserted.
        try harness.feed(F.begin(commit: 0x3000), at: 0x2f00)
        try harness.feed(F.update(2, from: "v", to: "inside"), at: 0x2f10)
        try harness.feed(F.delete(3, "v"), at: 0x2f20)
        try harness.feed(F.insert(99, "new"), at: 0x2f30)
        try harness.feed(F.commit(0x3000), at: 0x3000)
        let high = try { () throws -> [StreamAction] in
            try harness.feed(F.begin(commit: 0x4000), at: 0x3ff0)
            return try harness.feed(
                F.logical(prefix: ChangeAssembler.watermarkPrefix, content: "high:t-1", at: 0x3ff8), at: 0x3ff8)
        }()
        #expect(
            high.map(\.name) == [
                "append 0/4000:0", "append 0/4000:1", "append 0/4000:2", "progress 0 rows 3 done", "snapshot done",
            ])
        try harness.feed(F.commit(0x4000), at: 0x4000)
        let committed = try harness.drained()
        guard case .commitGroup(_, let update) = committed.first else {
            Issue.record("expected a group commit, got \(committed.map(\.name))")
            return
        }
        #expect(update?.finished == true)
        #expect(harness.machine.watermark == nil)
        // Rows 1, 4, 5 as `r` at the high watermark, after the stream's own events.
        #expect(harness.storedOperations == ["u", "u", "d", "c", "r", "r", "r"])
        #expect(harness.stored.suffix(3) == ["0/4000:0", "0/4000:1", "0/4000:2"])
    }

    @Test func watermarksOfAnotherProcessAreIgnored() throws {
        var harness = MachineHarness(watermark: Self.watermark())
        harness.pieceRows = [Self.row(1, "v")]
        try harness.feed(F.relation(), at: 0x500)
        try harness.drained()
        try Self.watermark(&harness, "low:old-1", commit: 0x2000)
        try Self.watermark(&harness, "high:old-1", commit: 0x3000)
        try harness.drained()
        #expect(harness.storedOperations.isEmpty)
        #expect(harness.machine.watermark != nil)
    }
}
