// The read cap of a backfill, checked by counting: with a clock the test
// moves, the rows read between any two piece starts never exceed the cap
// times the time between them; pieces shrink to about a second of the cap;
// and the cap reaches the pieces `WatermarkSnapshot` hands out.

import EventStore
import PgOutput
import Testing

@testable import CDC

@Suite struct WatermarkPacerTests {
    /// Reads a table of `rowsPerPage` rows a page for `seconds` of simulated
    /// time, asking every 10 ms; returns each piece's start and rows.
    static func simulate(cap: Int, rowsPerPage: Int, seconds: Int) -> [(at: Duration, rows: Int)] {
        let origin = ContinuousClock.now
        var pacer = WatermarkPacer(rowsPerSecond: cap)
        var pieces: [(at: Duration, rows: Int)] = []
        var elapsed = Duration.zero
        while elapsed < .seconds(seconds) {
            let now = origin + elapsed
            if pacer.mayStart(at: now) {
                let pages = pacer.pages(limit: WatermarkSnapshot.piecePages)
                pacer.started(at: now)
                let rows = Int(pages) * rowsPerPage
                pacer.read(rows: rows, pages: pages)
                pieces.append((elapsed, rows))
            }
            elapsed += .milliseconds(10)
        }
        return pieces
    }

    @Test(arguments: [(cap: 500, rowsPerPage: 60), (cap: 10_000, rowsPerPage: 200), (cap: 7, rowsPerPage: 3)])
    func rowsReadStayUnderTheCap(cap: Int, rowsPerPage: Int) {
        let pieces = Self.simulate(cap: cap, rowsPerPage: rowsPerPage, seconds: 60)
        #expect(pieces.count > 10)
        // Between the starts of pieces i and j, the rows of pieces i..<j are paid for at the cap.
        for i in pieces.indices {
            var rows = 0
            for j in pieces.indices where j > i {
                rows += pieces[j - 1].rows
                let seconds =
                    Double((pieces[j].at - pieces[i].at).components.attoseconds) / 1e18
                    + Double((pieces[j].at - pieces[i].at).components.seconds)
                #expect(
                    Double(rows) <= Double(cap) * seconds + 1e-6, "pieces \(i)..<\(j): \(rows) rows in \(seconds) s")
            }
        }
        // Over the whole run: no more than the cap allows plus the last piece.
        let total = pieces.reduce(0) { $0 + $1.rows }
        #expect(total <= cap * 60 + pieces.last!.rows)
        // And not far below it: the cap is a cap, not a crawl.
        #expect(Double(total) >= Double(cap) * 60 * 0.8, "\(total) rows in 60 s at \(cap)/s")
        // After the first piece showed the density, a piece holds about a second of the cap.
        for piece in pieces.dropFirst() { #expect(piece.rows <= max(cap, rowsPerPage)) }
    }

    @Test func theFirstPieceIsOnePageAndTheLimitHolds() {
        var pacer = WatermarkPacer(rowsPerSecond: 1_000_000)
        #expect(pacer.pages(limit: 1024) == 1)
        pacer.started(at: .now)
        pacer.read(rows: 10, pages: 1)
        #expect(pacer.pages(limit: 1024) == 1024)
    }

    @Test func aThrottledBackfillsPiecesWaitTheirTurn() {
        var snapshot = StreamMachineWatermarkTests.watermark()
        var backfill = Backfill(id: "bf_x", tables: ["public.users"], requestedAt: 0, maxRowsPerSecond: 100)
        backfill.chunks = [0]
        snapshot.label([backfill])
        let start = ContinuousClock.now
        let first = snapshot.nextPiece(now: start)
        #expect(first?.piece.endPage == 1, "one page first")
        var window = WatermarkWindow(token: first!.token, piece: first!.piece, keyColumns: [0])
        for id in 1...50 { window.add(StreamMachineWatermarkTests.row(id, "v")) }
        snapshot.loaded(window)
        _ = snapshot.received(Self.message("low:\(first!.token)"))
        guard case .emitRows(let emitted) = snapshot.received(Self.message("high:\(first!.token)")) else {
            Issue.record("the high watermark emits the rows")
            return
        }
        snapshot.stored(emitted.piece, rows: 50)
        // 50 rows at 100 a second: the next piece waits half a second.
        #expect(snapshot.nextPiece(now: start + .milliseconds(499)) == nil)
        let second = snapshot.nextPiece(now: start + .milliseconds(500))
        #expect(second?.piece.firstPage == 1)
        #expect(
            second.map { ($0.piece.endPage ?? 10) - $0.piece.firstPage } == 2, "two pages: a second at 50 rows a page")
    }

    static func message(_ content: String) -> LogicalMessage {
        LogicalMessage(
            transactional: true, lsn: .zero, prefix: ChangeAssembler.watermarkPrefix, content: ArraySlice(content.utf8))
    }

    @Test func aCancelledBackfillsPieceInFlightIsNotStored() {
        var snapshot = StreamMachineWatermarkTests.watermark()
        var backfill = Backfill(id: "bf_x", tables: ["public.users"], requestedAt: 0)
        backfill.chunks = [0]
        snapshot.label([backfill])
        let request = snapshot.nextPiece(now: .now)
        #expect(request != nil)
        let finished = snapshot.drop(tables: [], chunks: [0])
        #expect(finished.map(\.id) == [0])
        snapshot.loaded(WatermarkWindow(token: request!.token, piece: request!.piece, keyColumns: [0]))
        #expect(snapshot.watchedRelation == nil, "no window opens for a cancelled backfill")
        #expect(snapshot.isFinished)
        #expect(snapshot.nextPiece(now: .now) == nil)
    }
}
