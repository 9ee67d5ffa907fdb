// Drives a `StreamMachine` the way `ReplicationSession` does, with the store
// kept in memory: it answers the machine's requests (schemas, staged rows,
// snapshot pieces) and records every action, so a test states what the
// machine asked for and what would be stored.

import EventStore
import PgOutput
import PostgresReplication
import PostgresWire

@testable import CDC

struct MachineHarness {
    var machine: StreamMachine
    var now: ContinuousClock.Instant
    /// Every action, in order.
    private(set) var log: [StreamAction] = []
    /// Ids (`commit LSN:ordinal`) of the events in committed groups.
    private(set) var stored: [String] = []
    private(set) var storedOperations: [String] = []
    private var pending: [(id: String, op: String)] = []
    private(set) var checkpoint: Checkpoint
    private(set) var groupOpen = false
    /// Staged rows per transaction, with the subtransaction that staged them.
    private(set) var staged: [UInt32: [(sub: UInt32, row: [UInt8])]] = [:]
    /// Event templates staged per transaction (`StreamPreEncoding`), with their subtransaction.
    private(set) var stagedEvents: [UInt32: [(sub: UInt32, template: [UInt8], gaps: TemplateGaps)]] = [:]
    /// Rows a requested snapshot piece "reads".
    var pieceRows: [TupleData] = []
    /// The snapshot a reload of a table without a key "holds" (its rows are `pieceRows`).
    var heldSnapshot: SnapshotVisibility?

    init(
        checkpoint: Checkpoint = Checkpoint(lastCommitLSN: .zero, flushLSN: LSN(0x100)),
        settings: StreamMachine.Settings = .init(), watermark: WatermarkSnapshot? = nil, protocolVersion: Int = 2,
        schemaRegistry: SchemaRegistry? = nil
    ) {
        now = ContinuousClock.now
        self.checkpoint = checkpoint
        machine = StreamMachine(
            protocolVersion: protocolVersion, database: "app", checkpoint: checkpoint, start: checkpoint.flushLSN,
            settings: settings, watermark: watermark, now: now, schemaRegistry: schemaRegistry)
    }

    /// Feeds one frame; returns the actions it caused (requests answered).
    @discardableResult
    mutating func feed(_ frame: ServerFrame) throws -> [StreamAction] {
        var actions: [StreamAction] = []
        try machine.received(frame, into: &actions)
        return try perform(actions)
    }

    @discardableResult
    mutating func feed(_ message: [UInt8], at lsn: UInt64) throws -> [StreamAction] {
        try feed(PgOutputFrames.xLog(message, at: lsn))
    }

    @discardableResult
    mutating func drained(after elapsed: Duration = .zero) throws -> [StreamAction] {
        now += elapsed
        var actions: [StreamAction] = []
        machine.drained(now: now, into: &actions)
        return try perform(actions)
    }

    @discardableResult
    mutating func tick(after elapsed: Duration) throws -> [StreamAction] {
        now += elapsed
        var actions: [StreamAction] = []
        machine.tick(now: now, into: &actions)
        return try perform(actions)
    }

    @discardableResult
    mutating func finish() throws -> [StreamAction] {
        var actions: [StreamAction] = []
        machine.finish(into: &actions)
        return try perform(actions)
    }

    /// A new session on the same store: staged rows are dropped, as
    /// `ReplicationSession` does before START_REPLICATION.
    mutating func restart(settings: StreamMachine.Settings = .init()) {
        staged = [:]
        stagedEvents = [:]
        pending = []
        groupOpen = false
        machine = StreamMachine(
            protocolVersion: 2, database: "app", checkpoint: checkpoint, start: checkpoint.flushLSN,
            settings: settings, watermark: nil, now: now)
    }

    private mutating func perform(_ actions: [StreamAction]) throws -> [StreamAction] {
        var done: [StreamAction] = []
        for action in actions {
            log.append(action)
            done.append(action)
            switch action {
            case .beginGroup:
                precondition(!groupOpen, "a group is already open")
                groupOpen = true
            case .append(let record):
                precondition(groupOpen, "append outside a group")
                pending.append(
                    ("\(record.commitLSN):\(record.ordinal)", String(UnicodeScalar(record.operation.rawValue))))
            case .commitGroup(let summary, _):
                precondition(groupOpen, "commit outside a group")
                stored += pending.map(\.id)
                storedOperations += pending.map(\.op)
                pending = []
                groupOpen = false
                checkpoint = summary.checkpoint
            case .rollbackGroup:
                pending = []
                groupOpen = false
            case .saveCheckpoint(let checkpoint):
                precondition(!groupOpen, "saveCheckpoint with a group open")
                self.checkpoint = checkpoint
            case .sendStatus:
                break
            case .stage(let target, let walStart, let message):
                precondition(groupOpen, "stage outside a group")
                staged[target.transaction, default: []].append(
                    (target.subtransaction, StreamStaging.stagedRow(walStart: walStart, message: message)))
            case .discardStaged(let transaction, let subtransaction):
                precondition(groupOpen, "discard outside a group")
                if let subtransaction, subtransaction != transaction {
                    staged[transaction]?.removeAll { $0.sub == subtransaction }
                    stagedEvents[transaction]?.removeAll { $0.sub == subtransaction }
                } else {
                    staged[transaction] = nil
                    stagedEvents[transaction] = nil
                }
            case .stageEvent(let target, let template, let gaps):
                precondition(groupOpen, "stage outside a group")
                stagedEvents[target.transaction, default: []].append((target.subtransaction, template, gaps))
            case .commitStagedEvents(let move):
                precondition(groupOpen, "commit staged events outside a group")
                let templates = stagedEvents.removeValue(forKey: move.transaction) ?? []
                precondition(templates.count == move.events, "the machine counted other templates than it staged")
                for (ordinal, staged) in templates.enumerated() {
                    // A template starts `","op":"c"`.
                    pending.append(("\(move.commitLSN):\(ordinal)", String(UnicodeScalar(staged.template[8]))))
                }
            case .replayStaged(let commit):
                for (_, row) in staged[commit.xid] ?? [] {
                    var replayed: [StreamAction] = []
                    try machine.replayed(row, into: &replayed)
                    done += try perform(replayed)
                }
                var finished: [StreamAction] = []
                try machine.replayFinished(commit, into: &finished)
                done += try perform(finished)
            case .lookUpSchema(let relation):
                machine.resolved(
                    TableSchema(
                        relation: relation, kinds: relation.columns.map { $0.typeOID == 23 ? .integer : .text },
                        keyColumns: relation.columns.filter(\.isKey).map(\.name), isCaptured: relation.name != "ignored"
                    ))
            case .lookUpStagedSchema(let relation):
                machine.resolvedStaged(
                    TableSchema(
                        relation: relation, kinds: relation.columns.map { $0.typeOID == 23 ? .integer : .text },
                        keyColumns: relation.columns.filter(\.isKey).map(\.name),
                        isCaptured: relation.name != "ignored",
                        columnFacts: relation.columns.map { _ in
                            CatalogLookup.ColumnFacts(typeName: "", isNullable: true, defaultExpression: nil)
                        }))
            case .readPiece(let request):
                var window = WatermarkWindow(
                    token: request.token, piece: request.piece, keyColumns: request.keyColumns,
                    heldSnapshot: request.piece.reloadsTable ? heldSnapshot : nil)
                if window.heldSnapshot == nil { for row in pieceRows { window.add(row) } }
                machine.pieceLoaded(window)
            case .readHeldRows(let window):
                var delta = window.delta
                var read: [StreamAction] = []
                for row in pieceRows where delta.admits(row) { try machine.heldRow(row, into: &read) }
                for row in delta.additions { try machine.heldRow(row, into: &read) }
                machine.heldRowsFinished(into: &read)
                done += try perform(read)
            case .recordPieceProgress, .markSnapshotDone:
                precondition(groupOpen, "snapshot progress outside a group")
            case .recordSchema:
                precondition(groupOpen, "schema version outside a group")
            case .recordTableSet:
                precondition(groupOpen, "table set outside a group")
            }
        }
        return done
    }
}

extension StreamAction {
    /// A short name for assertions: `begin`, `append 0/3000:0`, `commit 0/3000`, `status 0/3028`, …
    var name: String {
        switch self {
        case .beginGroup: "begin"
        case .append(let record): "append \(record.commitLSN):\(record.ordinal)"
        case .commitGroup(let summary, _): "commit \(summary.checkpoint.lastCommitLSN)/\(summary.checkpoint.flushLSN)"
        case .rollbackGroup: "rollback"
        case .saveCheckpoint(let checkpoint): "save \(checkpoint.flushLSN)"
        case .sendStatus(let report): "status \(report.flushed)"
        case .stage(let target, _, _): "stage \(target.transaction)/\(target.subtransaction)"
        case .discardStaged(let transaction, let sub): "discard \(transaction)" + (sub.map { "/\($0)" } ?? "")
        case .replayStaged(let commit): "replay \(commit.xid)"
        case .stageEvent(let target, _, _): "stage event \(target.transaction)/\(target.subtransaction)"
        case .commitStagedEvents(let move): "move \(move.transaction) \(move.events)"
        case .lookUpSchema(let relation): "schema \(relation.name)"
        case .lookUpStagedSchema(let relation): "staged schema \(relation.name)"
        case .readPiece(let request): "piece \(request.piece.chunkID)"
        case .readHeldRows(let window): "held rows \(window.piece.chunkID)"
        case .recordPieceProgress(let chunk, _, let rows, let done):
            "progress \(chunk) rows \(rows)" + (done ? " done" : "")
        case .markSnapshotDone: "snapshot done"
        case .recordSchema(let version): "version \(version.table) \(version.version)"
        case .recordTableSet(let change): "tables \(change.tables.names.joined(separator: ","))"
        }
    }
}
