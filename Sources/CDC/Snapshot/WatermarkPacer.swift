// The read cap of a backfill (`max_rows_per_second`), so a backfill cannot
// swamp the source: each piece may start only once the rows read before it
// are paid for at the cap, and pieces are cut small enough (from the rows
// per page seen so far) that one holds about a second of the cap. Over any
// stretch of time the rows read then stay under `cap × seconds` plus one
// piece. Pure: the caller says what time it is.

struct WatermarkPacer {
    let rowsPerSecond: Int
    /// When the next piece may start.
    private(set) var nextStart: ContinuousClock.Instant?
    /// The start of the piece being read.
    private var pieceStart: ContinuousClock.Instant?
    private var rowsSeen: Int64 = 0
    private var pagesSeen: Int64 = 0

    init(rowsPerSecond: Int) {
        self.rowsPerSecond = max(1, rowsPerSecond)
    }

    func mayStart(at now: ContinuousClock.Instant) -> Bool {
        nextStart.map { now >= $0 } ?? true
    }

    /// Pages for the next piece, at most `limit`: about a second's worth of
    /// rows at the cap. One page until a piece showed how dense the table is.
    func pages(limit: UInt32) -> UInt32 {
        guard rowsSeen > 0, pagesSeen > 0 else { return 1 }
        let rowsPerPage = max(1, Double(rowsSeen) / Double(pagesSeen))
        let pages = (Double(rowsPerSecond) / rowsPerPage).rounded(.down)
        return UInt32(max(1, min(Double(limit), pages)))
    }

    /// A piece starts now.
    mutating func started(at now: ContinuousClock.Instant) {
        pieceStart = now
    }

    /// The piece started last read `rows` rows from `pages` pages (nil: the
    /// table's end was not known, the pages do not count for density).
    mutating func read(rows: Int, pages: UInt32?) {
        guard let start = pieceStart else { return }
        pieceStart = nil
        if let pages, pages > 0 {
            rowsSeen += Int64(rows)
            pagesSeen += Int64(pages)
        }
        let seconds = Double(rows) / Double(rowsPerSecond)
        nextStart = start + .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }
}
