// Finishing a snapshot whose exported snapshot is gone (the process died or was
// stopped half way through it), while the stream runs: the watermark method
// of Netflix's DBLog (Andreas Andreakis, Ioannis Papapanagiotou, "DBLog: A
// Watermark Based Change-Data-Capture Framework", 2020).
//
// The rest of the load is read piece by piece (a range of heap pages, so a
// piece's rows fit in memory). This value holds the plan, the open window and
// the decisions; `WatermarkPieceReader` does the reading. For each piece, on a
// connection of its own:
//
//   1. write a low watermark into the WAL: a transactional logical message
//      (`pg_logical_emit_message(true, 'popsink-load', 'low:<token>')`),
//      committed before the SELECT starts;
//   2. SELECT the piece's rows (one COPY, one statement snapshot) and hold
//      them in a `WatermarkWindow`;
//   3. write a high watermark the same way, after the SELECT has finished.
//
// The stream then brings, in commit order: the low watermark (the window
// opens), the transactions that committed while the SELECT ran, and the
// high watermark. Every row whose key one of those transactions touched is
// dropped from the window: the stream already carries that row's newer
// state. At the high watermark the rows left are stored as `r` events, as
// part of that transaction, together with the chunk's progress. A row that
// survives was not changed between the watermarks, so its selected value is
// its value at the high watermark: placing it there keeps the history
// consistent, and the consumer rebuilding the table from the events gets it
// exactly. Changes before the low watermark are visible to the SELECT, and
// were streamed before it too.
//
// Rows loaded this way may appear as `r` more than once for one key (a row
// that an update moved from a page already loaded to one still to load is
// read again); with a key that is an upsert of the same value.
//
// A table without a primary key or replica identity index has no key to
// reconcile on, and pieces cannot work for it: equal rows cannot be told
// apart, and a row an update moves across a piece boundary would be read
// twice or never, which without a key is a wrong row count. It is reloaded
// whole, from one snapshot held open for the reload, and bounded in memory:
//
//   1. low watermark; then, on a second connection, a REPEATABLE READ
//      transaction takes its snapshot (`pg_current_snapshot()`, kept as
//      `SnapshotVisibility`) and stays open; then the high watermark;
//   2. until the high watermark comes through the stream, each change of
//      the table is told against that snapshot by its transaction's xid:
//      one the snapshot does not see is kept as a row difference
//      (`ReloadDelta`), one it sees is already in its rows;
//   3. at the high watermark a truncate marked `snapshot: true` goes out,
//      then the snapshot's rows, read by one COPY straight into the open
//      group (never held in memory), with the difference applied: the table
//      exactly as of the high watermark. Changes after it follow in order.
//
// Telling changes by xid, not by their place in the WAL, keeps this exact
// when commit records reach the WAL in another order than the snapshot saw
// them (Postgres makes a commit visible after writing its record). The
// reload is one piece: a crash in the middle of it stores nothing of it
// (the group is not committed before the high watermark's transaction
// ends), and the restart reloads the table from the start with a new
// snapshot, after a new marker.
//
// Watermarks of an earlier process (their token is unknown) are ignored;
// its piece is simply read again.

import EventStore
import PgOutput
import PostgresReplication
import PostgresWire

struct WatermarkSnapshot {
    /// Pages of one piece: small, because its rows wait in memory for the
    /// high watermark to come through the stream.
    static let piecePages: UInt32 = 1024

    struct Piece {
        let chunkID: Int64
        let table: Int
        let firstPage: UInt32
        /// Exclusive; nil reads to the table's end.
        let endPage: UInt32?
        let finishesChunk: Bool
        /// A table reloaded whole starts with a truncate marker.
        let reloadsTable: Bool
    }

    /// A piece to read: emit its low watermark, SELECT it, emit its high one.
    struct PieceRequest {
        let piece: Piece
        let token: String
        let table: SnapshotPlan.Table
        let keyColumns: [Int]
        let chunk: SnapshotChunk
        /// The backfill's condition on the table (SQL checked by Postgres when it was asked for).
        let condition: String?
    }

    /// What the stream must do for a watermark it received.
    enum Step {
        case none
        /// The high watermark: emit these rows, record the piece's progress.
        case emitRows(WatermarkWindow)
        /// The high watermark of a table reloaded whole: emit the marker, then
        /// the held snapshot's rows with the window's difference applied.
        case reloadHeld(WatermarkWindow)
    }

    private var tables: [SnapshotPlan.Table]
    private var chunks: [SnapshotChunk]
    private var tracker: SnapshotProgressTracker
    private var window: WatermarkWindow?
    /// A piece was handed out and its window has not come back yet.
    private var reading = false
    /// Tells this process's watermarks from an earlier one's.
    private let tokenPrefix: String
    private var piecesStarted = 0
    /// A piece read again waits this long first: what its snapshot missed
    /// becomes visible within moments (or once a synchronous standby answers).
    static let readAgainDelay = Duration.milliseconds(100)
    private var readAgainAt: ContinuousClock.Instant?
    /// Pieces whose rows were thrown away and read again (`RecentCommits`).
    private(set) var piecesReadAgain = 0
    /// Indexes in `tables` of tables that stopped being captured.
    private var dropped: Set<Int> = []
    /// The backfill each of its chunks reads, if any.
    private var backfillOfChunk: [Int64: String] = [:]
    /// Conditions by backfill, then table.
    private var conditions: [String: [String: String]] = [:]
    /// The read caps of throttled backfills.
    private var pacers: [String: WatermarkPacer] = [:]
    /// Chunks of cancelled backfills: a piece of one in flight is not stored.
    private var droppedChunks: Set<Int64> = []
    /// Progress of pieces whose rows are in the open group.
    private var uncommitted: [SnapshotProgressTracker.ChunkProgress] = []

    /// The load still to finish, or nil when there is none. Adjusts the
    /// stored plan first: a table rewritten since the plan was made (its
    /// pages no longer line up) is planned again from its first page, a
    /// table without a key is reloaded whole, a dropped one is dropped.
    static func resume(
        config: PipelineConfig, store: EventStoreWriter, sql: PostgresConnection, catalog: CatalogLookup
    ) throws -> WatermarkSnapshot? {
        guard try store.metadata(SnapshotLoad.stateKey) == "pending", let checkpoint = store.checkpoint else {
            return nil
        }
        // A table the filter no longer selects is still captured until its
        // marker (`TableSetWatch`): its load goes on, and stops there.
        let applied = Set(try CapturedTables.stored(in: store)?.names ?? [])
        let current = try SnapshotPlan.tables(config: config, connection: sql, catalog: catalog, alsoSelecting: applied)
        let byName = SnapshotPlan.index(current)
        var chunks = try store.snapshotChunks()
        var added: [SnapshotChunk] = []
        var finished: [Int64] = []
        var nextID = (chunks.map(\.id).max() ?? -1) + 1
        if chunks.isEmpty {
            // The process died after creating the slot, before saving a plan.
            added = SnapshotPlan.chunks(
                of: current, pagesPerChunk: config.snapshot.chunkPages, serverVersion: sql.serverVersion)
        } else {
            var replanned: Set<String> = []
            for chunk in chunks where !chunk.isDone {
                guard let index = byName[chunk.tableName] else {
                    finished.append(chunk.id)  // dropped since: nothing left to load
                    continue
                }
                let table = current[index]
                guard !table.hasKey || table.relfilenode != chunk.relfilenode else { continue }
                finished.append(contentsOf: chunks.filter { $0.tableName == chunk.tableName && !$0.isDone }.map(\.id))
                if replanned.insert(chunk.tableName).inserted {
                    let pages: UInt32 = table.hasKey ? config.snapshot.chunkPages : 0
                    let fresh = SnapshotPlan.chunks(
                        of: [table], pagesPerChunk: pages, serverVersion: sql.serverVersion, firstID: nextID)
                    nextID += Int64(fresh.count)
                    added += fresh
                }
            }
        }
        let pending = chunks.contains { !$0.isDone && !finished.contains($0.id) } || !added.isEmpty
        if !added.isEmpty || !finished.isEmpty || !pending {
            try store.beginGroup()
            for chunk in chunks where finished.contains(chunk.id) {
                try store.recordSnapshotProgress(chunk: chunk.id, nextPage: chunk.nextPage, rows: 0, done: true)
            }
            try store.addSnapshotChunks(added)
            if !pending { try store.setMetadata(SnapshotLoad.stateKey, "done") }
            try store.commitGroup(checkpoint: checkpoint)
            chunks = try store.snapshotChunks()
        }
        guard pending else { return nil }
        return WatermarkSnapshot(
            tables: current, chunks: chunks, tokenPrefix: String(UInt64.random(in: 0...UInt64.max), radix: 36))
    }

    init(tables: [SnapshotPlan.Table], chunks: [SnapshotChunk], tokenPrefix: String) {
        self.tables = tables
        self.chunks = chunks
        self.tokenPrefix = tokenPrefix
        tracker = SnapshotProgressTracker(tables: tables, chunks: chunks)
    }

    var progress: [TableSnapshotProgress] { tracker.tables }

    /// Loads `chunks` of `added` too (a backfill of tables that started to
    /// be captured). A table already in the plan takes the new resolution.
    mutating func add(tables added: [SnapshotPlan.Table], chunks newChunks: [SnapshotChunk]) {
        for table in added {
            if let index = tables.firstIndex(where: { $0.name == table.name }) {
                tables[index] = table
            } else {
                tables.append(table)
            }
        }
        chunks += newChunks
        // The tracker counts what is committed: progress still in the open group is applied at its commit.
        var committed = chunks
        for piece in uncommitted {
            guard let index = committed.firstIndex(where: { $0.id == piece.id }) else { continue }
            committed[index].rows -= piece.rows
            if piece.done { committed[index].isDone = false }
        }
        tracker = SnapshotProgressTracker(tables: tables, chunks: committed)
    }

    /// True when every chunk is stored (or waits in the open group).
    var isFinished: Bool { window == nil && !reading && !chunks.contains { !$0.isDone } }

    /// True when no piece is in flight and chunks are left.
    var needsPiece: Bool { window == nil && !reading && chunks.contains { !$0.isDone } }

    /// The relation whose changes the open window must see.
    var watchedRelation: UInt32? { window.map { tables[$0.piece.table].schema.relation.oid } }

    /// The next piece to read, unless one is in flight or its backfill's
    /// read cap says to wait.
    mutating func nextPiece(now: ContinuousClock.Instant) -> PieceRequest? {
        guard window == nil, !reading, let chunkID = chunks.first(where: { !$0.isDone })?.id else { return nil }
        if let readAgainAt {
            guard now >= readAgainAt else { return nil }
            self.readAgainAt = nil
        }
        let backfill = backfillOfChunk[chunkID]
        var pages = Self.piecePages
        if let backfill, let pacer = pacers[backfill] {
            guard pacer.mayStart(at: now) else { return nil }
            pages = pacer.pages(limit: Self.piecePages)
            pacers[backfill]!.started(at: now)
        }
        guard let piece = nextPieceBounds(pages: pages) else { return nil }
        let table = tables[piece.table]
        piecesStarted += 1
        reading = true
        let keyColumns = table.hasKey ? table.schema.keyIndexes : Array(table.schema.relation.columns.indices)
        let chunk = SnapshotChunk(
            id: piece.chunkID, schema: table.schema.relation.namespace, table: table.schema.relation.name,
            relfilenode: table.relfilenode, firstPage: piece.firstPage, endPage: piece.endPage)
        return PieceRequest(
            piece: piece, token: "\(tokenPrefix)-\(piecesStarted)", table: table, keyColumns: keyColumns, chunk: chunk,
            condition: backfill.flatMap { conditions[$0]?[table.name] })
    }

    /// The piece's rows missed a transaction the stream already brought: they
    /// are not stored, and the same pages are read again, after a pause.
    mutating func readAgain(now: ContinuousClock.Instant) {
        reading = false
        piecesReadAgain += 1
        readAgainAt = now + Self.readAgainDelay
    }

    /// The piece's rows were read and its high watermark written.
    mutating func loaded(_ window: WatermarkWindow) {
        reading = false
        if let backfill = backfillOfChunk[window.piece.chunkID], pacers[backfill] != nil {
            let pages = window.piece.endPage.map { $0 &- window.piece.firstPage }
            pacers[backfill]!.read(rows: window.rowCount, pages: pages)
        }
        // A piece of a table that stopped being captured meanwhile, or of a
        // cancelled backfill, is not stored.
        guard !dropped.contains(window.piece.table), !droppedChunks.contains(window.piece.chunkID) else { return }
        self.window = window
    }

    /// Tables that stopped being captured (`schema.table`) and chunks of
    /// cancelled backfills: their pieces are no longer read, an open window
    /// on one is closed without storing it. Returns their chunks left to
    /// load, to record as done.
    mutating func drop(tables names: Set<String>, chunks ids: Set<Int64> = []) -> [SnapshotChunk] {
        let indexes = tables.indices.filter { names.contains(tables[$0].name) }
        guard !indexes.isEmpty || !ids.isEmpty else { return [] }
        dropped.formUnion(indexes)
        droppedChunks.formUnion(ids)
        if let open = window, dropped.contains(open.piece.table) || ids.contains(open.piece.chunkID) { window = nil }
        var finished: [SnapshotChunk] = []
        for index in chunks.indices
        where !chunks[index].isDone && (names.contains(chunks[index].tableName) || ids.contains(chunks[index].id)) {
            chunks[index].isDone = true
            finished.append(chunks[index])
            uncommitted.append(.init(id: chunks[index].id, rows: 0, done: true))
        }
        return finished
    }

    /// A watermark came through the stream, inside a transaction that is not a replay.
    mutating func received(_ message: LogicalMessage) -> Step {
        guard var window else { return .none }
        let content = String(decoding: message.content, as: UTF8.self)
        if content == "low:\(window.token)" {
            window.open()
            self.window = window
            return .none
        }
        guard content == "high:\(window.token)", window.isOpen else { return .none }
        self.window = nil
        return window.heldSnapshot == nil ? .emitRows(window) : .reloadHeld(window)
    }

    /// A change of the watched table, inside the window or before it opened.
    mutating func observe(_ change: ChangeAssembler.WatchedChange) {
        window?.reconcile(change)
    }

    func schema(of piece: Piece) -> TableSchema { tables[piece.table].schema }

    /// The on-demand backfill the piece's rows are read for; nil for a load or a table's first backfill.
    func backfill(of piece: Piece) -> String? { backfillOfChunk[piece.chunkID] }

    /// Names the chunks of `backfills` for the rows they read, and takes
    /// their conditions and read caps.
    mutating func label(_ backfills: [Backfill]) {
        for backfill in backfills {
            for chunk in backfill.chunks { backfillOfChunk[chunk] = backfill.id }
            if !backfill.conditions.isEmpty { conditions[backfill.id] = backfill.conditions }
            if let cap = backfill.maxRowsPerSecond, pacers[backfill.id] == nil {
                pacers[backfill.id] = WatermarkPacer(rowsPerSecond: cap)
            }
        }
    }

    /// The page the piece's chunk goes on from once its rows are stored.
    static func nextPage(after piece: Piece) -> UInt32 { piece.endPage ?? piece.firstPage }

    /// Notes that the piece's rows are in the open group.
    mutating func stored(_ piece: Piece, rows: Int) {
        let nextPage = Self.nextPage(after: piece)
        if let index = chunks.firstIndex(where: { $0.id == piece.chunkID }) {
            chunks[index].nextPage = nextPage
            chunks[index].rows += Int64(rows)
            chunks[index].isDone = piece.finishesChunk
        }
        uncommitted.append(.init(id: piece.chunkID, rows: Int64(rows), done: piece.finishesChunk))
    }

    /// The open group committed: its pieces count as done.
    mutating func groupCommitted() {
        tracker.apply(uncommitted)
        uncommitted.removeAll()
    }

    /// The open group was dropped: forget what it held, read those pieces again.
    mutating func groupRolledBack() {
        uncommitted.removeAll()
    }

    // MARK: - Pieces

    private func nextPieceBounds(pages: UInt32) -> Piece? {
        guard let chunk = chunks.first(where: { !$0.isDone }),
            let table = tables.firstIndex(where: { $0.name == chunk.tableName })
        else { return nil }
        let whole = !tables[table].hasKey
        if whole {
            return Piece(
                chunkID: chunk.id, table: table, firstPage: 0, endPage: nil, finishesChunk: true, reloadsTable: true)
        }
        let limit = chunk.nextPage.addingReportingOverflow(pages)
        let chunkEnd = chunk.endPage ?? max(tables[table].pages, chunk.nextPage)
        if limit.overflow || limit.partialValue >= chunkEnd {
            return Piece(
                chunkID: chunk.id, table: table, firstPage: chunk.nextPage, endPage: chunk.endPage,
                finishesChunk: true, reloadsTable: false)
        }
        return Piece(
            chunkID: chunk.id, table: table, firstPage: chunk.nextPage, endPage: limit.partialValue,
            finishesChunk: false, reloadsTable: false)
    }
}
