// The watermark window on its own: which selected rows survive the changes
// the stream brings between a piece's low and high watermarks.

import PgOutput
import Testing

@testable import CDC

@Suite struct WatermarkWindowTests {
    static func row(_ values: String?...) -> TupleData {
        TupleData(columns: values.map { $0.map { .text(ArraySlice($0.utf8)) } ?? .null })
    }

    static let piece = WatermarkSnapshot.Piece(
        chunkID: 0, table: 0, firstPage: 0, endPage: nil, finishesChunk: true, reloadsTable: false)

    static func survivors(_ window: WatermarkWindow) -> [[String?]] {
        window.survivors.map { row in
            row.columns.map { value in
                if case .text(let bytes) = value { String(decoding: bytes, as: UTF8.self) } else { nil }
            }
        }
    }

    @Test func changesBeforeTheLowWatermarkDoNotCount() {
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0])
        window.add(Self.row("1", "a"))
        window.reconcile(.init(old: nil, new: Self.row("1", "b"), isTruncate: false))
        #expect(Self.survivors(window) == [["1", "a"]])
    }

    /// Before the low watermark a change counts only if the piece's snapshot does not see
    /// it: its commit was streamed, but the rows were read without it.
    @Test func changesBeforeTheLowWatermarkThePieceDidNotSeeCount() {
        let snapshot = SnapshotVisibility(xmin: 100, xmax: 110, inProgress: [104])
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0], chunkSnapshot: snapshot)
        for id in 1...3 { window.add(Self.row(String(id), "v")) }
        window.reconcile(.init(old: nil, new: Self.row("1", "seen"), isTruncate: false, xid: 103))
        window.reconcile(.init(old: nil, new: Self.row("2", "unseen"), isTruncate: false, xid: 104))
        #expect(Self.survivors(window) == [["1", "v"], ["3", "v"]])
    }

    /// A transaction the stream committed that a piece's snapshot still shows in progress.
    @Test func recentCommitsTellAPieceItMissedAStreamedTransaction() {
        var recent = RecentCommits()
        for xid in UInt32(90)...UInt32(103) { recent.add(xid) }
        #expect(!recent.containsUnseen(by: SnapshotVisibility(xmin: 100, xmax: 110, inProgress: [105])))
        #expect(recent.containsUnseen(by: SnapshotVisibility(xmin: 100, xmax: 110, inProgress: [102, 105])))
        // Bounded: the oldest commits are forgotten.
        for xid in 0..<UInt32(RecentCommits.capacity) { recent.add(1_000_000 + xid) }
        #expect(!recent.containsUnseen(by: SnapshotVisibility(xmin: 90, xmax: 110, inProgress: [102])))
        #expect(
            recent.containsUnseen(by: SnapshotVisibility(xmin: 1_000_000, xmax: 2_000_000, inProgress: [1_000_001])))
    }

    @Test func rowsTheWindowTouchesAreDroppedByKey() {
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0])
        for id in 1...5 { window.add(Self.row(String(id), "v")) }
        window.open()
        window.reconcile(.init(old: nil, new: Self.row("1", "new"), isTruncate: false))  // insert (or update, key only)
        window.reconcile(.init(old: Self.row("2", nil), new: Self.row("20", "moved"), isTruncate: false))  // key change
        window.reconcile(.init(old: Self.row("3", "v"), new: nil, isTruncate: false))  // delete
        window.reconcile(.init(old: nil, new: Self.row("99", "v"), isTruncate: false))  // another piece's row
        #expect(Self.survivors(window) == [["4", "v"], ["5", "v"]])
    }

    @Test func aTruncateInsideTheWindowDropsEverything() {
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0])
        window.add(Self.row("1", "a"))
        window.open()
        window.reconcile(.init(old: nil, new: nil, isTruncate: true))
        #expect(Self.survivors(window).isEmpty)
    }

    /// Without a key the whole row is the key; equal rows are dropped one at a time.
    @Test func withoutAKeyWholeRowsMatchOneForOne() {
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0, 1])
        window.add(Self.row("x", "1"))
        window.add(Self.row("x", "1"))
        window.add(Self.row("y", nil))
        window.open()
        window.reconcile(.init(old: nil, new: Self.row("x", "1"), isTruncate: false))
        window.reconcile(.init(old: Self.row("y", nil), new: nil, isTruncate: false))
        #expect(Self.survivors(window) == [["x", "1"]])
    }

    /// Length-prefixed keys: ("ab", "c") and ("a", "bc") are different rows.
    @Test func keysDoNotRunTogether() {
        var window = WatermarkWindow(token: "t", piece: Self.piece, keyColumns: [0, 1])
        window.add(Self.row("ab", "c"))
        window.open()
        window.reconcile(.init(old: Self.row("a", "bc"), new: nil, isTruncate: false))
        #expect(Self.survivors(window) == [["ab", "c"]])
    }
}
