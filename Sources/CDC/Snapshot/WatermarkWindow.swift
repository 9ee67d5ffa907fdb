// The rows of one piece of a resumed load, held between its low and high
// watermarks, and the rule that reconciles them with the stream: a row whose
// key the stream changes inside the window is dropped, because the stream's
// event is at least as new as what the SELECT saw (see `WatermarkSnapshot`).

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

    init(token: String, piece: WatermarkSnapshot.Piece, keyColumns: [Int]) {
        self.token = token
        self.piece = piece
        self.keyColumns = keyColumns
    }

    var rowCount: Int { rows.count }

    mutating func add(_ row: TupleData) {
        positions[key(of: row, fallback: nil), default: []].append(rows.count)
        rows.append(row)
    }

    mutating func open() { isOpen = true }

    /// Drops the rows a change inside the window makes stale.
    mutating func reconcile(_ change: ChangeAssembler.WatchedChange) {
        guard isOpen else { return }
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

    /// The key columns' values, length-prefixed so that no two different
    /// rows share a key. An unchanged TOASTed value of an update is taken
    /// from the old image.
    private func key(of row: TupleData, fallback: TupleData?) -> [UInt8] {
        var key: [UInt8] = []
        for index in keyColumns {
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
