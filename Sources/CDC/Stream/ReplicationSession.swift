// One connection's worth of streaming: connect, check the slot against the
// store (`SlotGuard`), load or resume the snapshot, START_REPLICATION, then
// read frames until stopped, the end position is reached, or the connection
// fails (the worker reconnects). The decisions are `StreamMachine`'s; this
// executor reads frames, feeds them to it and carries out its actions.

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
    /// Called when everything received is handled, before waiting for more:
    /// housekeeping of the store (retention) that must not wait for a commit
    /// on a quiet database.
    private let onIdle: () -> Void
    private var endLSN: LSN?
    private let clock = ContinuousClock()
    private let backfills: BackfillDesk

    init(
        config: PipelineConfig, store: EventStoreWriter, progress: PipelineProgress, wake: WakeSignal,
        endLSN: LSN?, shouldStop: @escaping () -> Bool,
        onDurable: @escaping (Int64) -> Void, onIdle: @escaping () -> Void = {}
    ) {
        backfills = BackfillDesk(store: store, progress: progress)
        self.config = config
        self.store = store
        self.progress = progress
        self.wake = wake
        self.endLSN = endLSN
        self.shouldStop = shouldStop
        self.onDurable = onDurable
        self.onIdle = onIdle
    }

    /// The end position, resolved on first connect when it is `current`.
    var resolvedEndLSN: LSN? { endLSN }

    /// What one run holds besides the machine: the connections and the stream.
    private struct Links {
        let stream: ReplicationStream
        let catalog: CatalogLookup
        let poller: ServerPoller
        let pieces: WatermarkPieceReader
        let tableSet: TableSetWatch
        let managedPublication: ManagedPublicationKeeper?
    }

    func run() throws -> End {
        let sql = try PostgresConnection(settings: config.source, mode: .sql, applicationName: "popsink-pg catalog")
        sql.queryTimeout = config.receiveTimeout
        let poller = ServerPoller(connection: sql, slot: config.slot)
        let replication = try PostgresConnection(settings: config.source, mode: .logicalReplication)
        progress.update { $0.tls = replication.security }
        let identity = try replication.identifySystem()
        let managedPublication = try ManagedPublicationKeeper.start(config: config, connection: sql, store: store)
        try poller.checkPublication(config.publication)
        if endLSN == nil, config.endPosition == .current {
            endLSN = try poller.currentInsertPosition()
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
        let catalog = CatalogLookup(connection: sql)
        var watermark =
            prepared.snapshot == nil
            ? try WatermarkSnapshot.resume(config: config, store: store, sql: sql, catalog: catalog) : nil
        watermark?.label(Backfill.decode(try store.metadata(Backfill.metadataKey)))
        let version = PostgresConnection.pgoutputProtocolVersion(serverVersion: replication.serverVersion)
        var machine = StreamMachine(
            protocolVersion: version, database: identity.database ?? "",
            checkpoint: store.checkpoint ?? Checkpoint(lastCommitLSN: .zero, flushLSN: start), start: start,
            settings: .init(
                groupCommit: config.groupCommit, statusInterval: config.statusInterval, endLSN: endLSN,
                messages: config.messages, columnMask: config.columnMask, preEncodeStreamed: true),
            watermark: watermark, now: clock.now, schemaRegistry: try SchemaRegistry(stored: store.latestTableSchemas())
        )
        // New filters, or tables added or removed while the pipeline was
        // stopped: looked at before a bounded run may end at once, since its
        // end waits for the change to be applied.
        let tableSet = try TableSetWatch(config: config, connection: sql, catalog: catalog, store: store)
        let initial = try tableSet.check(store: store)
        if let initial { machine.tableSetChanging(initial) }
        if machine.reachedEnd { return .reachedEnd }

        // Unfinished streamed transactions are streamed again from their start.
        try store.discardAllStaged()
        let stream = try replication.startLogicalReplication(
            slot: config.slot, start: start, protocolVersion: version, publications: [config.publication],
            streaming: version >= 2)
        progress.update {
            $0.state = watermark == nil ? .streaming : .snapshotting
            if let watermark { $0.snapshot = watermark.progress }
            $0.flushedLSN = machine.checkpoint.flushLSN
            $0.receivedLSN = start
            $0.retryAttempt = 0
            $0.lastError = nil
            $0.sessionsStarted += 1
        }
        let links = Links(
            stream: stream, catalog: catalog, poller: poller, pieces: WatermarkPieceReader(config: config),
            tableSet: tableSet, managedPublication: managedPublication)
        progress.update { $0.tableSetCheck = initial == nil ? .unchanged : .changing }
        try backfills.refresh()
        var actions: [StreamAction] = []
        actions.reserveCapacity(64)
        var framesSinceTick: UInt = 0
        var silence = SilenceWatch(timeout: config.receiveTimeout, now: clock.now)

        streaming: while !shouldStop() {
            actions.removeAll(keepingCapacity: true)
            switch try stream.next() {
            case .frame(let frame):
                silence.heard(at: clock.now)
                try machine.received(frame, into: &actions)
                framesSinceTick &+= 1
                if framesSinceTick & 0xFF == 0 { try tick(&machine, links, into: &actions) }
                try perform(actions, on: &machine, links)
                if machine.reachedEnd, !machine.isInTransaction { break streaming }
            case .wouldBlock:
                machine.drained(now: clock.now, into: &actions)
                try perform(actions, on: &machine, links)
                if machine.reachedEnd { break streaming }
                actions.removeAll(keepingCapacity: true)
                try tick(&machine, links, into: &actions)
                try perform(actions, on: &machine, links)
                onIdle()
                switch try stream.wait(timeoutMilliseconds: waitTimeout(until: machine.nextStatusDue), wake: wake) {
                case .readable: silence.heard(at: clock.now)
                case .woken: break
                case .timedOut: try checkSilence(&silence, machine: machine, stream: stream)
                }
            }
        }
        actions.removeAll(keepingCapacity: true)
        machine.finish(into: &actions)
        try perform(actions, on: &machine, links)
        stream.finish()
        return machine.reachedEnd ? .reachedEnd : .stopped
    }

    /// Nothing arrived within a wait: ask the server for a keepalive, or give
    /// the connection up when the last request went unanswered.
    private func checkSilence(_ silence: inout SilenceWatch, machine: StreamMachine, stream: ReplicationStream) throws {
        switch silence.check(now: clock.now) {
        case .quiet:
            break
        case .ping:
            let flushed = machine.checkpoint.flushLSN
            try stream.send(
                StandbyStatusUpdate(
                    written: flushed, flushed: flushed, applied: flushed,
                    sendTime: PostgresTimestamp(unixMicroseconds: WallClock.unixMicroseconds()), replyRequested: true))
        case .dead(let quiet):
            throw PipelineError(
                .connectionLost,
                "nothing arrived on the replication connection for \(quiet.components.seconds) s, not even an answer "
                    + "to a keepalive request: the connection is dead or stalled",
                retryable: true,
                remediation: "The pipeline reconnects by itself. If this repeats, check the network path to Postgres "
                    + "(a firewall or NAT dropping idle connections), or raise the receive timeout.")
        }
    }

    /// Time passed: status updates, and the server's position and the
    /// captured table set about once a second.
    private func tick(_ machine: inout StreamMachine, _ links: Links, into actions: inout [StreamAction]) throws {
        let now = clock.now
        if let reading = try links.poller.pollIfDue(now: now) {
            if let position = reading.position { machine.serverPosition(position) }
            try links.managedPublication?.step()
            if let change = try links.tableSet.check(store: store) { machine.tableSetChanging(change) }
            if let change = try backfills.poll(tableSet: links.tableSet) { machine.tableSetChanging(change) }
            progress.update {
                $0.serverWALEnd = machine.serverWALEnd
                $0.slot = reading.slot
            }
        }
        machine.tick(now: now, into: &actions)
    }

    // MARK: - Actions

    private func perform(_ actions: [StreamAction], on machine: inout StreamMachine, _ links: Links) throws {
        for action in actions {
            switch action {
            case .beginGroup:
                try store.beginGroup()
            case .append(let record):
                try store.append(commitLSN: record.commitLSN, ordinal: record.ordinal, body: record.body)
            case .recordSchema(let version):
                try store.addTableSchema(version)
            case .commitGroup(let summary, let snapshot):
                try commit(summary, snapshot: snapshot)
            case .rollbackGroup:
                store.rollbackGroup()
            case .saveCheckpoint(let checkpoint):
                try store.saveCheckpoint(checkpoint)
                progress.update { $0.flushedLSN = checkpoint.flushLSN }
            case .sendStatus(let report):
                let bound = config.confirmLimit?(store.lastSequence)
                let flushed = bound.map { min($0, report.flushed) } ?? report.flushed
                try links.stream.send(
                    StandbyStatusUpdate(
                        written: report.written, flushed: flushed, applied: flushed,
                        sendTime: PostgresTimestamp(unixMicroseconds: WallClock.unixMicroseconds())))
                progress.update {
                    $0.receivedLSN = max($0.receivedLSN, report.received)
                    $0.serverWALEnd = report.serverWALEnd
                    $0.confirmedLSN = flushed
                }
            case .stage(let target, let walStart, let message):
                try store.stage(
                    transaction: target.transaction, subtransaction: target.subtransaction,
                    message: StreamStaging.stagedRow(walStart: walStart, message: message)[...])
            case .stageEvent(let target, let template, let gaps):
                try store.stageEvent(
                    transaction: target.transaction, subtransaction: target.subtransaction, template: template,
                    gaps: gaps)
            case .commitStagedEvents(let move):
                try move.perform(on: store)
            case .discardStaged(let transaction, let subtransaction):
                try store.discardStaged(transaction: transaction, subtransaction: subtransaction)
            case .replayStaged(let commit):
                var replayed: [StreamAction] = []
                try store.forEachStaged(transaction: commit.xid) { row in
                    replayed.removeAll(keepingCapacity: true)
                    try machine.replayed(row, into: &replayed)
                    try perform(replayed, on: &machine, links)
                }
                replayed.removeAll(keepingCapacity: true)
                try machine.replayFinished(commit, into: &replayed)
                try perform(replayed, on: &machine, links)
            case .lookUpSchema(let relation):
                let ancestors = try PartitionAncestry.ancestors(of: relation.oid, over: links.catalog.connection)
                machine.resolved(
                    try TableSchema(
                        relation: relation, catalog: links.catalog,
                        captured: links.tableSet.captures(relation, ancestors: ancestors), partitionRoot: ancestors.last
                    ).masked(by: config.columnMask))
            case .lookUpStagedSchema(let relation):
                let ancestors = try? PartitionAncestry.ancestors(of: relation.oid, over: links.catalog.connection)
                machine.resolvedStaged(
                    ancestors.flatMap { ancestors in
                        try? TableSchema(
                            relation: relation, catalog: links.catalog,
                            captured: links.tableSet.captures(relation, ancestors: ancestors),
                            partitionRoot: ancestors.last
                        ).masked(by: config.columnMask)
                    })
            case .readPiece(let request):
                machine.pieceLoaded(try links.pieces.read(request))
            case .recordPieceProgress(let chunk, let nextPage, let rows, let done):
                try store.recordSnapshotProgress(chunk: chunk, nextPage: nextPage, rows: rows, done: done)
            case .markSnapshotDone:
                try store.setMetadata(SnapshotLoad.stateKey, "done")
            case .recordTableSet(let change):
                try store.addSnapshotChunks(change.chunks)
                try store.setMetadata(CapturedTables.metadataKey, change.tables.stored)
                if !change.chunks.isEmpty { try store.setMetadata(SnapshotLoad.stateKey, "pending") }
                try backfills.applied(change)
                links.tableSet.applied(change)
            }
        }
    }

    private func commit(_ summary: CommitGroup.Summary, snapshot: StreamAction.SnapshotUpdate?) throws {
        let receipt = try store.commitGroup(checkpoint: summary.checkpoint)
        progress.update {
            $0.flushedLSN = summary.checkpoint.flushLSN
            $0.eventsStored += Int64(summary.events)
            $0.eventsByOperation += summary.operations
            $0.transactionsStored += Int64(summary.transactions)
            $0.lastCommitTime = summary.commitTimes.last ?? $0.lastCommitTime
            for commitTime in summary.commitTimes {
                $0.commitToDurable.observe(
                    milliseconds: Double(receipt.durableAtMicros - commitTime.unixMicroseconds) / 1000)
            }
            if let snapshot {
                $0.snapshot = snapshot.tables
                if snapshot.finished { $0.state = .streaming }
            }
        }
        if snapshot != nil, backfills.hasRunning { try backfills.refresh() }
        onDurable(store.lastSequence)
    }

    private func waitTimeout(until deadline: ContinuousClock.Instant) -> Int32 {
        let left = deadline - clock.now
        let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(10, min(milliseconds, 1000)))
    }
}
