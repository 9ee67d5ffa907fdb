// The rows of one piece of a resumed load, held between its low and high
// watermarks, and the rule that reconciles them with the stream: a row whose
// key the stream changes inside the window is dropped, because the stream's
// event is at least as new as what the SELECT saw (see `WatermarkSnapshot`).
//
// A table without a key holds no rows here: its snapshot is held open by the
// reader (`heldSnapshot`), and the window keeps only what that snapshot does
// not see (`ReloadDelta`), to apply when the rows are read at the high watermark.

import PgOutput

struct WatermarkWindow {
    let token: String
    let piece: WatermarkSnapshot.Piece
    /// True once the low watermark came through the stream.
    private(set) var isOpen = false
    /// The selected rows in page order; nil once reconciled away.
    private var rows: [TupleData?] = []
    /// Row positions by key. Several for a table without a key (the whole
    /// row is its key there), where identical rows are possible.
    private var positions: [[UInt8]: [Int]] = [:]
    private let keyColumns: [Int]
    /// For a table reloaded whole: the snapshot its rows are read from at the
    /// high watermark, held open by `WatermarkPieceReader`.
    let heldSnapshot: SnapshotVisibility?
    /// The snapshot a piece of a table with a key was read in: a change it does
    /// not see is newer than the rows even before the low watermark comes through.
    let chunkSnapshot: SnapshotVisibility?
    /// The changes `heldSnapshot` does not see.
    private(set) var delta = ReloadDelta()

    init(
        token: String, piece: WatermarkSnapshot.Piece, keyColumns: [Int], heldSnapshot: SnapshotVisibility? = nil,
        chunkSnapshot: SnapshotVisibility? = nil
    ) {
        self.token = token
        self.piece = piece
        self.keyColumns = keyColumns
        self.heldSnapshot = heldSnapshot
        self.chunkSnapshot = chunkSnapshot
    }

    var rowCount: Int { rows.count }

    mutating func add(_ row: TupleData) {
        positions[key(of: row, fallback: nil), default: []].append(rows.count)
        rows.append(row)
    }

    mutating func open() { isOpen = true }

    /// Drops the rows a change inside the window makes stale. For a held
    /// snapshot: keeps the change if the snapshot does not see it, from the
    /// moment the snapshot was taken (a change the stream brings before the
    /// low watermark may still be one it does not see).
    mutating func reconcile(_ change: ChangeAssembler.WatchedChange) {
        if let heldSnapshot {
            guard !heldSnapshot.sees(committed: change.xid) else { return }
            if change.isTruncate { return delta.truncated() }
            if let old = change.old { delta.removed(old) }
            if let new = change.new { delta.added(Self.filled(new, from: change.old)) }
            return
        }
        guard isOpen || chunkSnapshot.map({ !$0.sees(committed: change.xid) }) == true else { return }
        if change.isTruncate {
            rows.removeAll()
            positions.removeAll()
            return
        }
        if let old = change.old { drop(key(of: old, fallback: nil)) }
        if let new = change.new { drop(key(of: new, fallback: change.old)) }
    }

    /// The rows that survived, in page order.
    var survivors: some Sequence<TupleData> { rows.lazy.compactMap { $0 } }

    private mutating func drop(_ key: [UInt8]) {
        guard var found = positions[key], let last = found.popLast() else { return }
        rows[last] = nil
        positions[key] = found.isEmpty ? nil : found
    }

    /// Every column's value as one key (a table without a key).
    static func wholeRowKey(of row: TupleData) -> [UInt8] {
        key(of: row, columns: row.columns.indices, fallback: nil)
    }

    /// `row` with its unchanged TOASTed values taken from `old` (REPLICA IDENTITY FULL has them all).
    static func filled(_ row: TupleData, from old: TupleData?) -> TupleData {
        guard let old, row.columns.contains(where: { if case .unchangedToast = $0 { true } else { false } }) else {
            return row
        }
        var filled = row
        for index in filled.columns.indices where index < old.columns.count {
            if case .unchangedToast = filled.columns[index] { filled.columns[index] = old.columns[index] }
        }
        return filled
    }

    private func key(of row: TupleData, fallback: TupleData?) -> [UInt8] {
        Self.key(of: row, columns: keyColumns, fallback: fallback)
    }

    /// The key columns' values, length-prefixed so that no two different
    /// rows share a key. An unchanged TOASTed value of an update is taken
    /// from the old image.
    private static func key(of row: TupleData, columns: some Sequence<Int>, fallback: TupleData?) -> [UInt8] {
        var key: [UInt8] = []
        for index in columns {
            var value = index < row.columns.count ? row.columns[index] : .null
            if case .unchangedToast = value, let fallback, index < fallback.columns.count {
                value = fallback.columns[index]
            }
            switch value {
            case .null, .unchangedToast:
                key.append(0)
            case .text(let bytes), .binary(let bytes):
                key.append(1)
                withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { key.append(contentsOf: $0) }
                key.append(contentsOf: bytes)
            }
        }
        return key
    }
}
