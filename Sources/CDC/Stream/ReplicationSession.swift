// One connection's worth of streaming: connect, check the slot against the
// store, START_REPLICATION, then decode, store and confirm until stopped, the
// end position is reached, or the connection fails (the worker reconnects).
//
// The replication invariants of DESIGN §4 live here:
// 1. the flush LSN sent to Postgres is only ever the store's checkpoint;
// 2. transactions at or below the checkpoint's commit LSN are skipped
//    (`ChangeAssembler`);
// 3. keepalives asking for a reply get one at once; otherwise a status update
//    goes out at least every `statusInterval`, and a final one on stop;
// 4. with no transaction in flight and everything durable, the server's WAL
//    end is made durable as the new checkpoint and then confirmed;
// 5. `SlotGuard` checks the slot before streaming.

import EventStore
import PgOutput
import PostgresReplication
import PostgresWire

final class ReplicationSession {
    enum End {
        case stopped
        case reachedEnd
    }

    private let config: PipelineConfig
    private let store: EventStoreWriter
    private let progress: PipelineProgress
    private let wake: WakeSignal
    private let shouldStop: () -> Bool
    private let onDurable: (Int64) -> Void
    private var endLSN: LSN?

    private var stream: ReplicationStream!
    private var checkpoint = Checkpoint(lastCommitLSN: .zero, flushLSN: .zero)
    private var received = LSN.zero
    private var serverWALEnd = LSN.zero
    /// How far Postgres has decoded with nothing left for us: keepalive WAL
    /// ends and the ends of transactions whose rows were all filtered out.
    private var idleAdvanceTarget = LSN.zero
    private let clock = ContinuousClock()
    private var lastStatusSent: ContinuousClock.Instant
    /// The server's WAL position is read about once a second: the stream's
    /// own positions only say how far decoding got, so lag would read 0
    /// while Postgres is far ahead.
    private var lastServerPositionCheck: ContinuousClock.Instant
    private var catalogConnection: PostgresConnection?
    private var lastIdleAdvance: ContinuousClock.Instant

    /// The group being built: open in the store, with the checkpoint its
    /// completed transactions would give once committed.
    private var groupIsOpen = false
    private var groupEvents = 0
    private var groupOperations = OperationCounts()
    private var groupTransactions = 0
    private var groupOpenedAt: ContinuousClock.Instant?
    private var groupCheckpoint: Checkpoint?
    /// Commit times of the transactions in the group, for the latency histogram.
    private var groupCommitTimes: [PostgresTimestamp] = []
    private var inTransaction = false
    private var framesSinceClockCheck: UInt = 0
    /// The rest of a snapshot whose exported snapshot is gone, read while streaming.
    private var watermarkSnapshot: WatermarkSnapshot?

    init(
        config: PipelineConfig, store: EventStoreWriter, progress: PipelineProgress, wake: WakeSignal,
        endLSN: LSN?, shouldStop: @escaping () -> Bool, onDurable: @escaping (Int64) -> Void
    ) {
        self.config = config
        self.store = store
        self.progress = progress
        self.wake = wake
        self.endLSN = endLSN
        self.shouldStop = shouldStop
        self.onDurable = onDurable
        lastStatusSent = clock.now
        lastIdleAdvance = clock.now
        lastServerPositionCheck = clock.now - .seconds(10)
    }

    /// The end position, resolved on first connect when it is `current`.
    var resolvedEndLSN: LSN? { endLSN }

    func run() throws -> End {
        let sql = try PostgresConnection(settings: config.source, mode: .sql, applicationName: "popsink-pg catalog")
        catalogConnection = sql
        let replication = try PostgresConnection(settings: config.source, mode: .logicalReplication)
        progress.update { $0.tls = replication.security }
        let identity = try replication.identifySystem()
        try checkPublication(sql)
        if endLSN == nil, config.endPosition == .current {
            endLSN = try sql.query("SELECT pg_current_wal_insert_lsn()::text AS lsn").value("lsn").flatMap { LSN($0) }
        } else if case .lsn(let lsn) = config.endPosition {
            endLSN = lsn
        }

        let prepared = try SlotGuard.prepare(
            slot: config.slot, store: store, sql: sql, replication: replication, identity: identity,
            snapshot: config.snapshot.enabled)
        var start = prepared.lsn
        if let snapshot = prepared.snapshot {
            // The replication connection keeps the exported snapshot alive
            // until its next command, so the load runs before START_REPLICATION.
            let outcome = try SnapshotLoad.run(
                config: config, snapshot: snapshot, consistentPoint: start, database: identity.database ?? "",
                store: store, progress: progress, shouldStop: shouldStop)
            onDurable(store.lastSequence)
            progress.update { $0.flushedLSN = start }
            if outcome == .stopped { return .stopped }
            start = store.checkpoint?.flushLSN ?? start
        }
        checkpoint = store.checkpoint ?? Checkpoint(lastCommitLSN: .zero, flushLSN: start)
        received = start
        let catalog = CatalogLookup(connection: sql)
        if prepared.snapshot == nil {
            watermarkSnapshot = try WatermarkSnapshot.resume(config: config, store: store, sql: sql, catalog: catalog)
        }
        if reachedEnd { return .reachedEnd }

        let version = PostgresConnection.pgoutputProtocolVersion(serverVersion: replication.serverVersion)
        var decoder = PgOutputDecoder(protocolVersion: version)
        // Unfinished streamed transactions are streamed again from their start.
        try store.discardAllStaged()
        var staging = StreamStaging(protocolVersion: version)
        var assembler = ChangeAssembler(
            database: identity.database ?? "", filter: config.filter, lastStoredCommit: checkpoint.lastCommitLSN)
        stream = try replication.startLogicalReplication(
            slot: config.slot, start: start, protocolVersion: version, publications: [config.publication],
            streaming: version >= 2)
        progress.update {
            $0.state = watermarkSnapshot == nil ? .streaming : .snapshotting
            if let watermarkSnapshot { $0.snapshot = watermarkSnapshot.progress }
            $0.flushedLSN = checkpoint.flushLSN
            $0.receivedLSN = start
            $0.retryAttempt = 0
            $0.lastError = nil
            $0.sessionsStarted += 1
        }

        streaming: while !shouldStop() {
            switch try stream.next() {
            case .frame(.xLogData(let data)):
                received = max(received, data.walStart)
                serverWALEnd = max(serverWALEnd, data.walEnd)
                let message = try decoder.decode(data.data)
                switch message {
                case .streamStart(let start):
                    staging.started(start)
                case .streamStop:
                    staging.stopped()
                case .streamAbort(let abort):
                    try openGroup()
                    try store.discardStaged(transaction: abort.xid, subtransaction: abort.subtransactionXid)
                case .streamCommit(let commit):
                    try openGroup()
                    try staging.replay(commit, store: store) { message, walStart in
                        try receive(message, walStart: walStart, assembler: &assembler, catalog: catalog)
                    }
                default:
                    if staging.currentTransaction != nil { try openGroup() }
                    if try !staging.stageIfStreamed(message, raw: data.data, walStart: data.walStart, store: store) {
                        try receive(message, walStart: data.walStart, assembler: &assembler, catalog: catalog)
                    }
                }
                // A long transaction never lets the socket drain: keep the
                // status updates going from here too (invariant 3).
                framesSinceClockCheck &+= 1
                if framesSinceClockCheck & 0xFF == 0 {
                    if clock.now - lastStatusSent >= config.statusInterval { try sendStatus() }
                    try refreshServerPosition()
                }
            case .frame(.keepalive(let keepalive)):
                serverWALEnd = max(serverWALEnd, keepalive.walEnd)
                idleAdvanceTarget = max(idleAdvanceTarget, keepalive.walEnd)
                if keepalive.replyRequested {
                    // Answer first: the idle advance below may wait on an
                    // fsync, and the server is timing this reply.
                    try sendStatus()
                    try advanceIfIdle(force: true)
                }
            case .wouldBlock:
                // Everything buffered is handled: make complete transactions durable now.
                if !inTransaction { try commitGroup() }
                try startLoadPieceIfDue(&assembler)
                try advanceIfIdle(force: false)
                if reachedEnd { break streaming }
                if clock.now - lastStatusSent >= config.statusInterval { try sendStatus() }
                try refreshServerPosition()
                _ = try stream.wait(timeoutMilliseconds: waitTimeout(), wake: wake)
                continue
            }
            if reachedEnd, !inTransaction { break streaming }
            // The next piece of a resumed load starts between transactions,
            // as soon as the previous one's high watermark came through.
            try startLoadPieceIfDue(&assembler)
        }
        try finish()
        if reachedEnd { return .reachedEnd }
        return .stopped
    }

    /// A bounded run ends once everything up to its end position is
    /// durable and the snapshot, if one is being finished, is complete.
    private var reachedEnd: Bool {
        guard let endLSN else { return false }
        return checkpoint.flushLSN >= endLSN && watermarkSnapshot == nil
    }

    private func startLoadPieceIfDue(_ assembler: inout ChangeAssembler) throws {
        guard !inTransaction, let watermarkSnapshot, watermarkSnapshot.needsPiece else { return }
        try watermarkSnapshot.startNextPiece()
        assembler.watchedRelation = watermarkSnapshot.watchedRelation
    }

    // MARK: - Decoded messages

    private func receive(
        _ message: PgOutputMessage, walStart: LSN, assembler: inout ChangeAssembler, catalog: CatalogLookup
    ) throws {
        let outcome = try assembler.received(message, walStart: walStart) { record in try append(record) }
        try handle(outcome, walStart: walStart, assembler: &assembler, catalog: catalog)
    }

    private func handle(
        _ outcome: ChangeAssembler.Outcome, walStart: LSN, assembler: inout ChangeAssembler, catalog: CatalogLookup
    ) throws {
        switch outcome {
        case .none:
            break
        case .watermark(let message):
            guard let watermarkSnapshot else { break }
            switch watermarkSnapshot.received(message) {
            case .none:
                break
            case .reloadMarker(let schema):
                try assembler.emitReloadMarker(schema: schema, walStart: walStart) { try append($0) }
            case .emitRows(let window):
                var rows = 0
                try assembler.emitLoadedRows(
                    window.survivors, schema: watermarkSnapshot.schema(of: window.piece), walStart: walStart
                ) { record in
                    try append(record)
                    rows += 1
                }
                try openGroup()
                try watermarkSnapshot.stored(window.piece, rows: rows, store: store)
            }
            assembler.watchedRelation = watermarkSnapshot.watchedRelation
        case .needsSchema(let relation):
            assembler.register(try TableSchema(relation: relation, catalog: catalog, filter: config.filter))
        case .began:
            inTransaction = true
        case .skipped:
            inTransaction = false
        case .committed(let transaction):
            inTransaction = false
            if transaction.events > 0 || groupIsOpen {
                groupTransactions += 1
                groupCommitTimes.append(transaction.commitTime)
                groupCheckpoint = Checkpoint(
                    lastCommitLSN: transaction.commitLSN, flushLSN: max(transaction.endLSN, checkpoint.flushLSN))
            } else {
                // Nothing captured (all rows filtered out): the position may
                // still advance, the way an idle stream does.
                idleAdvanceTarget = max(idleAdvanceTarget, transaction.endLSN)
            }
            let due = groupEvents >= config.groupCommit.maxEvents
                || groupOpenedAt.map { clock.now - $0 >= config.groupCommit.maxDelay } ?? false
            if due { try commitGroup() }
        }
    }

    private func openGroup() throws {
        guard !groupIsOpen else { return }
        try store.beginGroup()
        groupIsOpen = true
        groupOpenedAt = clock.now
    }

    private func append(_ record: ChangeAssembler.Record) throws {
        try openGroup()
        _ = try store.append(commitLSN: record.commitLSN, ordinal: record.ordinal, body: record.body)
        if let watched = record.watched { watermarkSnapshot?.observe(watched) }
        groupEvents += 1
        groupOperations.count(record.operation)
    }

    // MARK: - Durability and confirmation

    /// Commits the open group up to its last complete transaction and tells Postgres.
    private func commitGroup() throws {
        guard groupIsOpen, let pending = groupCheckpoint else { return }
        let receipt = try store.commitGroup(checkpoint: pending)
        checkpoint = pending
        let (events, transactions, operations) = (groupEvents, groupTransactions, groupOperations)
        groupIsOpen = false
        groupEvents = 0
        groupOperations = OperationCounts()
        groupTransactions = 0
        groupOpenedAt = nil
        groupCheckpoint = nil
        progress.update {
            $0.flushedLSN = pending.flushLSN
            $0.eventsStored += Int64(events)
            $0.eventsByOperation += operations
            $0.transactionsStored += Int64(transactions)
            $0.lastCommitTime = groupCommitTimes.last ?? $0.lastCommitTime
            for commitTime in groupCommitTimes {
                $0.commitToDurable.observe(
                    milliseconds: Double(receipt.durableAtMicros - commitTime.unixMicroseconds) / 1000)
            }
        }
        groupCommitTimes.removeAll(keepingCapacity: true)
        if let watermarkSnapshot {
            watermarkSnapshot.groupCommitted()
            let finished = watermarkSnapshot.isFinished
            progress.update {
                $0.snapshot = watermarkSnapshot.progress
                if finished { $0.state = .streaming }
            }
            if finished { self.watermarkSnapshot = nil }
        }
        onDurable(store.lastSequence)
        try sendStatus()
    }

    /// Invariant 4: when nothing is in flight, make the server's WAL end the
    /// checkpoint, so an idle or filtered-out database does not pin WAL.
    /// Saved at most once a second unless `force`d by a reply request.
    private func advanceIfIdle(force: Bool) throws {
        guard !inTransaction, !groupIsOpen, idleAdvanceTarget > checkpoint.flushLSN else { return }
        let reachesEnd = endLSN.map { idleAdvanceTarget >= $0 } ?? false
        guard force || reachesEnd || clock.now - lastIdleAdvance >= .seconds(1) else { return }
        let advanced = Checkpoint(lastCommitLSN: checkpoint.lastCommitLSN, flushLSN: idleAdvanceTarget)
        try store.saveCheckpoint(advanced)
        checkpoint = advanced
        lastIdleAdvance = clock.now
        progress.update { $0.flushedLSN = advanced.flushLSN }
        try sendStatus()
    }

    private func sendStatus() throws {
        let now = PostgresTimestamp(unixMicroseconds: WallClock.unixMicroseconds())
        try stream.send(StandbyStatusUpdate(
            written: max(received, checkpoint.flushLSN), flushed: checkpoint.flushLSN,
            applied: checkpoint.flushLSN, sendTime: now))
        lastStatusSent = clock.now
        progress.update {
            $0.receivedLSN = max($0.receivedLSN, received)
            $0.serverWALEnd = serverWALEnd
        }
    }

    /// Stop: keep what is complete, drop a half-received transaction (Postgres
    /// sends it again), and confirm the final position.
    private func finish() throws {
        if inTransaction {
            store.rollbackGroup()
            watermarkSnapshot?.groupRolledBack()
            groupIsOpen = false
            groupOperations = OperationCounts()
        } else {
            try commitGroup()
        }
        try advanceIfIdle(force: true)
        try sendStatus()
        stream.finish()
    }

    /// Reads the server's WAL position and the slot's health, about once a second.
    private func refreshServerPosition() throws {
        guard clock.now - lastServerPositionCheck >= .seconds(1), let sql = catalogConnection else { return }
        lastServerPositionCheck = clock.now
        let result = try sql.query(
            """
            WITH here AS (
                SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS lsn)
            SELECT here.lsn::text AS lsn, \(Self.slotHealthColumns(serverVersion: sql.serverVersion))
            FROM here LEFT JOIN pg_replication_slots s ON s.slot_name = $1
            """, [config.slot.rawValue])
        let position = result.value("lsn").flatMap { LSN($0) }
        let slot = result.value("wal_status").map { status in
            SlotHealth(
                walStatus: status, retainedBytes: result.value("retained").flatMap { UInt64($0) } ?? 0,
                safeWALBytes: result.value("safe").flatMap { Int64($0) })
        }
        progress.update {
            if let position {
                serverWALEnd = max(serverWALEnd, position)
                $0.serverWALEnd = serverWALEnd
            }
            $0.slot = slot
        }
    }

    /// `wal_status` and `safe_wal_size` came with PostgreSQL 13; older servers report no slot health.
    private static func slotHealthColumns(serverVersion: Int) -> String {
        serverVersion >= 130000
            ? "s.wal_status, (here.lsn - s.restart_lsn)::bigint AS retained, s.safe_wal_size::bigint AS safe"
            : "NULL::text AS wal_status, NULL::bigint AS retained, NULL::bigint AS safe"
    }

    private func waitTimeout() -> Int32 {
        let untilStatus = config.statusInterval - (clock.now - lastStatusSent)
        let milliseconds = untilStatus.components.seconds * 1000 + untilStatus.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(10, min(milliseconds, 1000)))
    }

    private func checkPublication(_ sql: PostgresConnection) throws {
        let exists = try sql.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [config.publication])
        guard !exists.rows.isEmpty else {
            throw PipelineError(
                .publicationMissing, "publication \(config.publication) does not exist in this database",
                remediation: "Create it: CREATE PUBLICATION \(PostgresConnection.quoteIdentifier(config.publication)) "
                    + "FOR ALL TABLES; (or FOR TABLE ...), then start again.")
        }
    }
}
