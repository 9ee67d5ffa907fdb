// One connection's worth of streaming: open the session (connect, check the
// slot, load or resume the snapshot, START_REPLICATION: `+Open`), then read
// frames until stopped, the end position is reached, or the connection fails
// (the worker reconnects). The decisions are `StreamMachine`'s; this executor
// reads frames, feeds them to it and carries out its actions.

import EventStore
import PgOutput
import PostgresReplication
import PostgresWire

final class ReplicationSession {
    enum End {
        case stopped
        case reachedEnd
    }

    let config: PipelineConfig
    let store: EventStoreWriter
    let progress: PipelineProgress
    private let wake: WakeSignal
    let shouldStop: () -> Bool
    let onDurable: (Int64) -> Void
    /// Called when everything received is handled, before waiting for more:
    /// housekeeping of the store (retention) that must not wait for a commit
    /// on a quiet database.
    private let onIdle: () -> Void
    /// The end position, resolved on first connect when it is `current`.
    var resolvedEndLSN: LSN?
    let clock = ContinuousClock()
    let backfills: BackfillDesk

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
        resolvedEndLSN = endLSN
        self.shouldStop = shouldStop
        self.onDurable = onDurable
        self.onIdle = onIdle
    }

    func run() throws -> End {
        switch try open() {
        case .ended(let end): return end
        case .streaming(let machine, let links): return try stream(machine, links)
        }
    }

    private func stream(_ opened: StreamMachine, _ links: Links) throws -> End {
        var machine = opened
        let stream = links.stream
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
                case .timedOut: try silence.check(now: clock.now, stream: stream, flushed: machine.checkpoint.flushLSN)
                }
            }
        }
        actions.removeAll(keepingCapacity: true)
        machine.finish(into: &actions)
        try perform(actions, on: &machine, links)
        stream.finish()
        return machine.reachedEnd ? .reachedEnd : .stopped
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
                let receipt = try store.commitGroup(checkpoint: summary.checkpoint)
                progress.update { $0.groupCommitted(summary, receipt: receipt, snapshot: snapshot) }
                if snapshot != nil, backfills.hasRunning { try backfills.refresh() }
                onDurable(store.lastSequence)
            case .rollbackGroup:
                store.rollbackGroup()
            case .saveCheckpoint(let checkpoint):
                try store.saveCheckpoint(checkpoint)
                progress.update { $0.flushedLSN = checkpoint.flushLSN }
            case .sendStatus(let report):
                let bound = config.confirmLimit?(store.lastSequence)
                let flushed = bound.map { min($0, report.flushed) } ?? report.flushed
                try links.stream.sendStatus(written: report.written, flushed: flushed)
                progress.update {
                    $0.receivedLSN = max($0.receivedLSN, report.received)
                    $0.serverWALEnd = report.serverWALEnd
                    $0.confirmedLSN = flushed
                }
            case .stage(let target, let walStart, let message):
                try store.stage(target, walStart: walStart, message: message)
            case .stageEvent(let target, let template, let gaps):
                try store.stageEvent(target, template: template, gaps: gaps)
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
                machine.resolved(try links.relations.schema(of: relation))
            case .lookUpStagedSchema(let relation):
                // Before the transaction commits the catalog may not resolve
                // it (a type the transaction created): the machine then
                // decodes that transaction at commit.
                machine.resolvedStaged(try? links.relations.schema(of: relation))
            case .readPiece(let request):
                machine.pieceLoaded(try links.pieces.read(request))
            case .readHeldRows(let window):
                var read: [StreamAction] = []
                var rows = 0
                try links.pieces.forEachHeldRow(of: window) { row in
                    read.removeAll(keepingCapacity: true)
                    try machine.heldRow(row, into: &read)
                    rows += 1
                    // Status updates go on while the stream waits: the walsender must not time us out.
                    if rows & 0xFFF == 0 { machine.tick(now: clock.now, into: &read) }
                    try perform(read, on: &machine, links)
                }
                read.removeAll(keepingCapacity: true)
                machine.heldRowsFinished(into: &read)
                try perform(read, on: &machine, links)
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

    private func waitTimeout(until deadline: ContinuousClock.Instant) -> Int32 {
        let left = deadline - clock.now
        let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(10, min(milliseconds, 1000)))
    }
}
