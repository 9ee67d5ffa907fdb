// The rule that reloads a table without a key exactly, without Postgres: a
// change is told against the held snapshot by its xid, and what the snapshot
// does not see is applied to its rows as a whole-row difference. The old
// rule (drop one equal row from the window for every change inside it)
// lost an unrelated equal row when an insert the snapshot did not see
// matched one it held.

import PgOutput
import Testing

@testable import CDC

@Suite struct KeylessReloadRuleTests {
    static func row(_ values: String?...) -> TupleData {
        TupleData(columns: values.map { $0.map { .text(ArraySlice($0.utf8)) } ?? .null })
    }

    static func text(_ row: TupleData) -> String {
        row.columns.map { value -> String in
            switch value {
            case .text(let bytes): String(decoding: bytes, as: UTF8.self)
            case .null: "null"
            default: "?"
            }
        }.joined(separator: "|")
    }

    static let piece = WatermarkSnapshot.Piece(
        chunkID: 0, table: 0, firstPage: 0, endPage: nil, finishesChunk: true, reloadsTable: true)

    /// The rows read at the high watermark: the snapshot's, with the window's difference applied.
    static func reloaded(_ snapshotRows: [TupleData], _ window: WatermarkWindow) -> [String] {
        var delta = window.delta
        return (snapshotRows.filter { delta.admits($0) } + delta.additions).map(text).sorted()
    }

    static func change(_ xid: UInt32, old: TupleData? = nil, new: TupleData? = nil, truncate: Bool = false)
        -> ChangeAssembler.WatchedChange
    {
        var change = ChangeAssembler.WatchedChange(old: old, new: new, isTruncate: truncate)
        change.xid = xid
        return change
    }

    @Test func snapshotTextParsesAndTellsXidsApart() throws {
        let snapshot = try #require(SnapshotVisibility("100:110:102,105"))
        #expect(snapshot.sees(committed: 99))
        #expect(snapshot.sees(committed: 101))
        #expect(!snapshot.sees(committed: 102))
        #expect(snapshot.sees(committed: 104))
        #expect(!snapshot.sees(committed: 105))
        #expect(!snapshot.sees(committed: 110))
        #expect(!snapshot.sees(committed: 4_000))
        #expect(SnapshotVisibility("100:100:") == SnapshotVisibility(xmin: 100, xmax: 100, inProgress: []))
        #expect(SnapshotVisibility("1:2") == nil)
        #expect(SnapshotVisibility("a:2:") == nil)
        #expect(SnapshotVisibility("1:2:x") == nil)
    }

    /// xid8 values carry the epoch; the stream's xids are 32-bit and wrap.
    @Test func xidsCompareAcrossTheEpochAndTheWrap() throws {
        let epoch = UInt64(3) << 32
        let snapshot = try #require(SnapshotVisibility("\(epoch + 4_294_967_290):\(epoch + (1 << 32) + 5):"))
        #expect(snapshot.sees(committed: 4_294_967_280))
        #expect(snapshot.sees(committed: 4_294_967_295))
        #expect(snapshot.sees(committed: 3))
        #expect(!snapshot.sees(committed: 5))
        #expect(!snapshot.sees(committed: 70))
    }

    /// An insert of a row equal to one the snapshot holds, committed after it:
    /// both rows are the table's; the window must keep the held one.
    @Test func anInsertAfterTheSnapshotKeepsAnEqualHeldRow() throws {
        let snapshot = try #require(SnapshotVisibility("50:60:55"))
        let held = [Self.row("x", "1"), Self.row("y", "2")]
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0, 1], heldSnapshot: snapshot)
        window.reconcile(Self.change(61, new: Self.row("x", "1")))
        #expect(Self.reloaded(held, window) == ["x|1", "x|1", "y|2"])

        // The old rule, on the same history, loses one: the window dropped its
        // `x|1` and the consumer got the insert before the marker truncated it.
        var old = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0, 1])
        for row in held { old.add(row) }
        old.open()
        old.reconcile(Self.change(61, new: Self.row("x", "1")))
        #expect(old.survivors.map(Self.text).sorted() == ["y|2"])
    }

    /// Changes the snapshot sees are in its rows already, whatever their WAL order.
    @Test func changesTheSnapshotSeesAreNotAppliedTwice() throws {
        let snapshot = try #require(SnapshotVisibility("50:60:55"))
        let held = [Self.row("a", "1"), Self.row("b", "2"), Self.row("b", "2")]
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0, 1], heldSnapshot: snapshot)
        window.reconcile(Self.change(54, new: Self.row("a", "1")))  // seen: already held
        window.reconcile(Self.change(55, old: Self.row("b", "2"), new: Self.row("b", "3")))  // in progress then
        window.reconcile(Self.change(53, old: Self.row("z", "9")))  // seen: deleted before it
        window.reconcile(Self.change(57, old: Self.row("a", "1"), new: nil))  // seen
        #expect(Self.reloaded(held, window) == ["a|1", "b|2", "b|3"])
    }

    /// Deletes and updates remove equal rows one at a time; a truncate after
    /// the snapshot removes all it held, and later inserts still count.
    @Test func removalsCountEqualRowsAndATruncateDropsTheSnapshot() throws {
        let snapshot = try #require(SnapshotVisibility("10:10:"))
        let held = Array(repeating: Self.row("d", nil), count: 3) + [Self.row("e", "5")]
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0, 1], heldSnapshot: snapshot)
        window.reconcile(Self.change(11, old: Self.row("d", nil)))
        window.reconcile(Self.change(12, old: Self.row("d", nil), new: Self.row("d", "1")))
        window.reconcile(Self.change(13, new: Self.row("f", "6")))
        window.reconcile(Self.change(14, old: Self.row("f", "6")))
        #expect(Self.reloaded(held, window) == ["d|1", "d|null", "e|5"])

        window.reconcile(Self.change(15, truncate: true))
        window.reconcile(Self.change(16, new: Self.row("g", "7")))
        #expect(Self.reloaded(held, window) == ["g|7"])
    }

    /// An update's unchanged TOASTed value is taken from its old image.
    @Test func unchangedToastIsFilledFromTheOldImage() throws {
        let snapshot = try #require(SnapshotVisibility("10:10:"))
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0, 1], heldSnapshot: snapshot)
        let new = TupleData(columns: [.text(ArraySlice("k2".utf8)), .unchangedToast])
        window.reconcile(Self.change(20, old: Self.row("k", "big"), new: new))
        #expect(Self.reloaded([Self.row("k", "big")], window) == ["k2|big"])
    }
}
