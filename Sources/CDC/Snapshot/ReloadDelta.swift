// What a held snapshot of a table without a key misses: the changes of
// transactions it does not see (`SnapshotVisibility`), kept as a multiset
// difference of whole rows. Those transactions committed after the snapshot
// was taken, so applied in commit order to the snapshot's rows they apply
// exactly: every row they delete is there. At the high watermark the
// snapshot's rows are read with this difference applied (a row with a
// negative count is left out that many times, then the rows with a positive
// count are added), which is the table as of the high watermark.
//
// Only changes of the short stretch between taking the snapshot and the
// high watermark coming through the stream are held here, never the table.

import PgOutput

struct ReloadDelta {
    private var counts: [[UInt8]: Int] = [:]
    /// One row image for each key with a positive count, to add at the end.
    private var images: [[UInt8]: TupleData] = [:]
    /// A truncate the snapshot does not see: none of its rows are left.
    private(set) var dropsSnapshotRows = false

    var isEmpty: Bool { counts.isEmpty && !dropsSnapshotRows }

    mutating func removed(_ row: TupleData) {
        adjust(WatermarkWindow.wholeRowKey(of: row), by: -1, image: nil)
    }

    mutating func added(_ row: TupleData) {
        adjust(WatermarkWindow.wholeRowKey(of: row), by: 1, image: row)
    }

    mutating func truncated() {
        counts.removeAll()
        images.removeAll()
        dropsSnapshotRows = true
    }

    /// Whether a row of the snapshot stays; a row the delta removes is
    /// counted off, so equal rows are removed only as many times as deleted.
    mutating func admits(_ row: TupleData) -> Bool {
        if dropsSnapshotRows { return false }
        guard !counts.isEmpty else { return true }
        let key = WatermarkWindow.wholeRowKey(of: row)
        guard let count = counts[key], count < 0 else { return true }
        counts[key] = count + 1 == 0 ? nil : count + 1
        return false
    }

    /// Rows added after the snapshot, each as many times as its count.
    var additions: [TupleData] {
        counts.sorted { $0.key.lexicographicallyPrecedes($1.key) }.flatMap { key, count in
            count > 0 ? Array(repeating: images[key]!, count: count) : []
        }
    }

    private mutating func adjust(_ key: [UInt8], by step: Int, image: TupleData?) {
        let count = (counts[key] ?? 0) + step
        counts[key] = count == 0 ? nil : count
        if let image, images[key] == nil { images[key] = image }
    }
}
