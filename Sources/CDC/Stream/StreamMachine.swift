// The streaming core as a pure state machine (the shape of postgres-nio's
// `ConnectionStateMachine`): frames and the passing of time go in, actions
// come out, and `ReplicationSession` carries them out. No I/O, no clock of
// its own, no callbacks, so every rule below is unit tested on hand-built
// and recorded frames.
//
// It holds the replication invariants of DESIGN §4:
// 1. the flush LSN it reports is only ever the checkpoint of a group it
//    asked to commit, or of an idle advance it asked to save;
// 2. transactions at or below the checkpoint's commit LSN are skipped
//    (`ChangeAssembler`), streamed ones without reading their staged rows;
// 3. a keepalive that asks for a reply gets a status update at once, and
//    one goes out at least every `statusInterval` otherwise;
// 4. with no transaction in flight and nothing uncommitted, the server's WAL
//    end becomes the checkpoint;
// 6. streamed transactions are staged and replayed (`StreamStaging`).
// It also runs the watermark window of a resumed snapshot or a backfill
// (`WatermarkSnapshot`), and applies a change of the captured table set at
// its marker (`TableSetChange`).
//
// Time is what the executor last said it is (`tick`, `drained`): the hot
// path reads no clock.

import EventStore
import PgOutput
import PostgresReplication
import PostgresWire

struct StreamMachine {
    struct Settings {
        var groupCommit = GroupCommitPolicy()
        var statusInterval: Duration = .seconds(10)
        /// An idle advance is saved at most this often, unless a reply is requested.
        var idleAdvanceInterval: Duration = .seconds(1)
        /// A bounded run stops once this is durable.
        var endLSN: LSN?
        /// The user's logical messages passed on as `m` events.
        var messages = MessageFilter.off
        /// Masks the tables DDL capture describes as the Relation messages' are.
        var columnMask: ColumnMask?
        /// Encode streamed transactions' changes on arrival (`StreamPreEncoding`).
        var preEncodeStreamed = false
    }

    private let settings: Settings
    private var decoder: PgOutputDecoder
    private var assembler: ChangeAssembler
    private var staging: StreamStaging
    private var preEncoding: StreamPreEncoding
    private var group = CommitGroup()
    private(set) var watermark: WatermarkSnapshot?
    /// What a piece's snapshot must see before its rows may be stored (`RecentCommits`).
    private var recentCommits = RecentCommits()
    /// A change of the table set whose marker has not come through yet.
    private(set) var tableSetChange: TableSetChange?
    /// A table reloaded whole whose rows `.readHeldRows` is reading.
    private var heldReload: (window: WatermarkWindow, schema: TableSchema, walStart: LSN, rows: Int)?

    /// What the store holds: the last checkpoint committed or saved.
    private(set) var checkpoint: Checkpoint
    private(set) var received: LSN
    private(set) var serverWALEnd = LSN.zero
    /// How far Postgres has decoded with nothing left for us: keepalive WAL
    /// ends and the ends of transactions whose rows were all filtered out.
    private var idleAdvanceTarget = LSN.zero
    /// Between a Begin and its Commit (a replayed streamed transaction included).
    private(set) var isInTransaction = false

    private var now: ContinuousClock.Instant
    private var lastStatusSent: ContinuousClock.Instant
    private var lastIdleAdvance: ContinuousClock.Instant

    init(
        protocolVersion: Int, database: String, checkpoint: Checkpoint, start: LSN, settings: Settings,
        watermark: WatermarkSnapshot?, now: ContinuousClock.Instant, schemaRegistry: SchemaRegistry? = nil
    ) {
        self.settings = settings
        decoder = PgOutputDecoder(protocolVersion: protocolVersion)
        assembler = ChangeAssembler(
            database: database, lastStoredCommit: checkpoint.lastCommitLSN, registry: schemaRegistry,
            messages: settings.messages)
        assembler.columnMask = settings.columnMask
        staging = StreamStaging(protocolVersion: protocolVersion)
        preEncoding = StreamPreEncoding(isEnabled: settings.preEncodeStreamed)
        self.checkpoint = checkpoint
        self.watermark = watermark
        received = start
        self.now = now
        lastStatusSent = now
        lastIdleAdvance = now
    }

    /// A bounded run ends once everything up to its end position is
    /// durable, the snapshot or backfill, if one is being finished, is
    /// complete, and a table set change found on the way is applied.
    var reachedEnd: Bool {
        guard let endLSN = settings.endLSN else { return false }
        return checkpoint.flushLSN >= endLSN && watermark == nil && tableSetChange == nil
    }

    /// When the next status update is due if nothing else sends one.
    var nextStatusDue: ContinuousClock.Instant { lastStatusSent + settings.statusInterval }

    // MARK: - Inputs

    /// One frame from the server.
    mutating func received(_ frame: ServerFrame, into actions: inout [StreamAction]) throws {
        switch frame {
        case .xLogData(let data):
            received = max(received, data.walStart)
            serverWALEnd = max(serverWALEnd, data.walEnd)
            try decoded(try decoder.decode(data.data), raw: data.data, walStart: data.walStart, into: &actions)
            // The next piece of a resumed load starts between transactions,
            // as soon as the previous one's high watermark came through.
            if watermark != nil { requestPieceIfDue(into: &actions) }
        case .keepalive(let keepalive):
            serverWALEnd = max(serverWALEnd, keepalive.walEnd)
            idleAdvanceTarget = max(idleAdvanceTarget, keepalive.walEnd)
            if keepalive.replyRequested {
                // Answer first: the idle advance below may wait on an
                // fsync, and the server is timing this reply.
                sendStatus(into: &actions)
                advanceIfIdle(force: true, into: &actions)
            }
        }
    }

    /// Time passed while frames keep coming: a long transaction never lets
    /// the socket drain, so status updates are sent from here too.
    mutating func tick(now: ContinuousClock.Instant, into actions: inout [StreamAction]) {
        self.now = now
        if now >= nextStatusDue { sendStatus(into: &actions) }
    }

    /// Everything buffered is handled: make complete transactions durable
    /// now, start the next snapshot piece, advance when idle.
    mutating func drained(now: ContinuousClock.Instant, into actions: inout [StreamAction]) {
        self.now = now
        if !isInTransaction { commitGroup(into: &actions) }
        requestPieceIfDue(into: &actions)
        advanceIfIdle(force: false, into: &actions)
        if now >= nextStatusDue { sendStatus(into: &actions) }
    }

    /// The schema asked for by `.lookUpSchema`.
    mutating func resolved(_ schema: TableSchema) {
        assembler.register(schema)
    }

    /// The schema asked for by `.lookUpStagedSchema`, nil when it could not be resolved.
    mutating func resolvedStaged(_ schema: TableSchema?) { preEncoding.resolved(schema) }

    /// One staged row of the transaction asked for by `.replayStaged`.
    mutating func replayed(_ row: [UInt8], into actions: inout [StreamAction]) throws {
        let (message, walStart) = try staging.decodeStaged(row)
        try decoded(message, walStart: walStart, into: &actions)
    }

    /// Every staged row of `commit` was passed to `replayed`.
    mutating func replayFinished(_ commit: StreamCommit, into actions: inout [StreamAction]) throws {
        staging.replayFinished()
        // Dropped in the same store transaction as the events it became,
        // before the Commit below may close that transaction.
        actions.append(.discardStaged(transaction: commit.xid, subtransaction: nil))
        try decoded(
            .commit(
                Commit(
                    flags: commit.flags, commitLSN: commit.commitLSN, endLSN: commit.endLSN,
                    commitTime: commit.commitTime)),
            walStart: commit.commitLSN, into: &actions)
    }

    /// The window of the piece asked for by `.readPiece`.
    mutating func pieceLoaded(_ window: WatermarkWindow) {
        if let snapshot = window.chunkSnapshot, recentCommits.containsUnseen(by: snapshot) {
            // A transaction already streamed is not in these rows: they would undo it.
            watermark?.readAgain(now: now)
        } else {
            watermark?.loaded(window)
        }
        assembler.watchedRelation = watermark?.watchedRelation
    }

    /// A row of the held snapshot asked for by `.readHeldRows`.
    mutating func heldRow(_ row: TupleData, into actions: inout [StreamAction]) throws {
        guard let held = heldReload else { return }
        let backfill = watermark?.backfill(of: held.window.piece)
        emit(
            try assembler.loadedRow(row, schema: held.schema, walStart: held.walStart, backfill: backfill),
            into: &actions)
        heldReload!.rows += 1
    }

    /// Every row of the held snapshot was passed to `heldRow`.
    mutating func heldRowsFinished(into actions: inout [StreamAction]) {
        guard let held = heldReload else { return }
        heldReload = nil
        recordPiece(held.window.piece, rows: held.rows, into: &actions)
    }

    /// The table set changed: `change`'s marker is written, and the change
    /// takes effect when it comes through the stream.
    mutating func tableSetChanging(_ change: TableSetChange) {
        tableSetChange = change
    }

    /// The server's WAL position, read on the side (the stream's own
    /// positions only say how far decoding got).
    mutating func serverPosition(_ lsn: LSN) {
        serverWALEnd = max(serverWALEnd, lsn)
    }

    /// Stop: keep what is complete, drop a half-received transaction
    /// (Postgres sends it again), and confirm the final position.
    mutating func finish(into actions: inout [StreamAction]) {
        if !isInTransaction { commitGroup(into: &actions) }
        if group.isOpen {
            actions.append(.rollbackGroup)
            group.discard()
            watermark?.groupRolledBack()
        }
        advanceIfIdle(force: true, into: &actions)
        sendStatus(into: &actions)
    }

    // MARK: - Messages

    private mutating func decoded(
        _ message: PgOutputMessage, raw: [UInt8], walStart: LSN, into actions: inout [StreamAction]
    ) throws {
        switch message {
        case .streamStart(let start):
            staging.started(start)
        case .streamStop:
            staging.stopped()
        case .streamAbort(let abort):
            openGroup(into: &actions)
            actions.append(.discardStaged(transaction: abort.xid, subtransaction: abort.subtransactionXid))
            staging.aborted(abort)
            preEncoding.aborted(abort)
        case .streamCommit(let commit):
            openGroup(into: &actions)
            try staging.replayStarted(commit)
            try decoded(
                .begin(Begin(finalLSN: commit.commitLSN, commitTime: commit.commitTime, xid: commit.xid)),
                walStart: commit.commitLSN, into: &actions)
            if assembler.isSkippingTransaction {
                // A replay of a stored transaction: nothing of it is read back.
                try replayFinished(commit, into: &actions)
            } else if preEncoding.committed(commit, assembler: &assembler, group: &group, into: &actions) {
                try replayFinished(commit, into: &actions)
            } else {
                actions.append(.replayStaged(commit))
            }
        default:
            if let target = staging.target(of: message) {
                openGroup(into: &actions)
                actions.append(.stage(target, walStart: walStart, message: raw))
                preEncoding.staged(message, target: target, walStart: walStart, stream: assembler, into: &actions)
            } else {
                try decoded(message, walStart: walStart, into: &actions)
            }
        }
    }

    /// A message of an ordinary (or replayed streamed) transaction.
    private mutating func decoded(
        _ message: PgOutputMessage, walStart: LSN, into actions: inout [StreamAction]
    ) throws {
        switch try assembler.received(message, walStart: walStart) {
        case .none:
            break
        case .event(let record):
            emit(record, into: &actions)
        case .events(let records):
            for record in records { emit(record, into: &actions) }
        case .needsSchema(let relation):
            actions.append(.lookUpSchema(relation))
        case .began:
            isInTransaction = true
        case .skipped:
            isInTransaction = false
        case .committed(let transaction):
            isInTransaction = false
            recentCommits.add(transaction.xid)
            committed(transaction, into: &actions)
        case .watermark(let message):
            try watermarkReceived(message, walStart: walStart, into: &actions)
        case .standalone(let record, let transaction):
            emit(record, into: &actions)
            committed(transaction, into: &actions)
        }
    }

    private mutating func committed(
        _ transaction: ChangeAssembler.CommittedTransaction, into actions: inout [StreamAction]
    ) {
        if transaction.events > 0 || group.isOpen {
            group.completed(
                commitTime: transaction.commitTime,
                checkpoint: Checkpoint(
                    lastCommitLSN: transaction.commitLSN, flushLSN: max(transaction.endLSN, checkpoint.flushLSN)))
        } else {
            // Nothing captured (all rows filtered out): the position may
            // still advance, the way an idle stream does.
            idleAdvanceTarget = max(idleAdvanceTarget, transaction.endLSN)
        }
        if group.isDue(settings.groupCommit, now: now) { commitGroup(into: &actions) }
    }

    private mutating func emit(_ record: ChangeAssembler.Record, into actions: inout [StreamAction]) {
        openGroup(into: &actions)
        if let watched = record.watched { watermark?.observe(watched) }
        if let version = record.newSchema { actions.append(.recordSchema(version)) }
        group.appended(record.operation)
        actions.append(.append(record))
    }

    // MARK: - Resumed snapshot

    private mutating func requestPieceIfDue(into actions: inout [StreamAction]) {
        guard !isInTransaction, watermark?.needsPiece == true, let request = watermark?.nextPiece(now: now) else {
            return
        }
        actions.append(.readPiece(request))
    }

    private mutating func watermarkReceived(
        _ message: LogicalMessage, walStart: LSN, into actions: inout [StreamAction]
    ) throws {
        if let change = tableSetChange, message.content.elementsEqual(change.marker.utf8) {
            tableSetChange = nil
            try tableSetChanged(change, walStart: walStart, into: &actions)
            return
        }
        guard watermark != nil else { return }
        switch watermark!.received(message) {
        case .none:
            break
        case .reloadHeld(let window):
            let loaded = try assembler.versionedForLoad(watermark!.schema(of: window.piece))
            if let announcement = loaded.announcement { emit(announcement, into: &actions) }
            emit(try assembler.reloadMarker(schema: loaded.schema, walStart: walStart), into: &actions)
            heldReload = (window, loaded.schema, walStart, 0)
            actions.append(.readHeldRows(window))
        case .emitRows(let window):
            let loaded = try assembler.versionedForLoad(watermark!.schema(of: window.piece))
            if let announcement = loaded.announcement { emit(announcement, into: &actions) }
            let schema = loaded.schema
            var rows = 0
            let backfill = watermark!.backfill(of: window.piece)
            for row in window.survivors {
                emit(
                    try assembler.loadedRow(row, schema: schema, walStart: walStart, backfill: backfill), into: &actions
                )
                rows += 1
            }
            recordPiece(window.piece, rows: rows, into: &actions)
        }
        assembler.watchedRelation = watermark!.watchedRelation
    }

    private mutating func recordPiece(_ piece: WatermarkSnapshot.Piece, rows: Int, into actions: inout [StreamAction]) {
        guard watermark != nil else { return }
        openGroup(into: &actions)
        actions.append(
            .recordPieceProgress(
                chunk: piece.chunkID, nextPage: WatermarkSnapshot.nextPage(after: piece), rows: Int64(rows),
                done: piece.finishesChunk))
        watermark!.stored(piece, rows: rows)
        if watermark!.isFinished { actions.append(.markSnapshotDone) }
    }

    /// At the marker: the `s` events of the tables that stop and start being
    /// captured, the new set and the backfill's plan, all in this group; the
    /// backfill's pieces follow while streaming goes on. A table that stops
    /// matching is captured up to its marker (`TableSetWatch.captures`), so a
    /// run that stops before the marker leaves the stored set and the stored
    /// events in agreement.
    private mutating func tableSetChanged(
        _ change: TableSetChange, walStart: LSN, into actions: inout [StreamAction]
    ) throws {
        var change = change
        change.at = assembler.openCommitLSN ?? walStart
        for name in change.removed {
            if let record = try assembler.captureStopped(name, walStart: walStart) { emit(record, into: &actions) }
        }
        for table in change.added where change.startsCapture {
            if let record = try assembler.captureStarted(table.schema, walStart: walStart) {
                emit(record, into: &actions)
            }
        }
        assembler.stopCapturing(Set(change.removed))
        preEncoding.tableSetChanged()
        openGroup(into: &actions)
        actions.append(.recordTableSet(change))
        // A load of a table that stops here stops too.
        if watermark != nil, change.stopsReading {
            for chunk in watermark!.drop(tables: Set(change.removed), chunks: change.cancelledChunks) {
                actions.append(.recordPieceProgress(chunk: chunk.id, nextPage: chunk.nextPage, rows: 0, done: true))
            }
            assembler.watchedRelation = watermark!.watchedRelation
            if change.chunks.isEmpty, watermark!.isFinished { actions.append(.markSnapshotDone) }
        }
        guard !change.chunks.isEmpty else { return }
        if watermark == nil {
            watermark = WatermarkSnapshot(tables: change.added, chunks: change.chunks, tokenPrefix: change.token)
        } else {
            watermark!.add(tables: change.added, chunks: change.chunks)
        }
        watermark!.label(change.backfills)
    }

    // MARK: - Durability and confirmation

    private mutating func openGroup(into actions: inout [StreamAction]) {
        guard !group.isOpen else { return }
        actions.append(.beginGroup)
        group.open(at: now)
    }

    /// Commits the open group up to its last complete transaction. A group
    /// that holds no complete transaction (only what streamed transactions
    /// staged or discarded) commits with the checkpoint as it is once no
    /// streamed transaction is in flight, so that it does not stay open and
    /// hold back the idle advance.
    private mutating func commitGroup(into actions: inout [StreamAction]) {
        guard group.isOpen,
            let pending = group.checkpoint ?? (staging.inFlight.isEmpty ? checkpoint : nil)
        else { return }
        let summary = group.close(checkpoint: pending)
        checkpoint = pending
        var update: StreamAction.SnapshotUpdate?
        if watermark != nil {
            watermark!.groupCommitted()
            let finished = watermark!.isFinished
            update = StreamAction.SnapshotUpdate(tables: watermark!.progress, finished: finished)
            if finished { watermark = nil }
        }
        actions.append(.commitGroup(summary, snapshot: update))
        sendStatus(into: &actions)
    }

    /// Invariant 4: when nothing is in flight, make the server's WAL end the
    /// checkpoint, so an idle or filtered-out database does not pin WAL.
    private mutating func advanceIfIdle(force: Bool, into actions: inout [StreamAction]) {
        guard !isInTransaction, !group.isOpen, idleAdvanceTarget > checkpoint.flushLSN else { return }
        let reachesEnd = settings.endLSN.map { idleAdvanceTarget >= $0 } ?? false
        guard force || reachesEnd || now - lastIdleAdvance >= settings.idleAdvanceInterval else { return }
        checkpoint = Checkpoint(lastCommitLSN: checkpoint.lastCommitLSN, flushLSN: idleAdvanceTarget)
        lastIdleAdvance = now
        actions.append(.saveCheckpoint(checkpoint))
        sendStatus(into: &actions)
    }

    private mutating func sendStatus(into actions: inout [StreamAction]) {
        actions.append(
            .sendStatus(
                .init(
                    written: max(received, checkpoint.flushLSN), flushed: checkpoint.flushLSN, received: received,
                    serverWALEnd: serverWALEnd)))
        lastStatusSent = now
    }
}
