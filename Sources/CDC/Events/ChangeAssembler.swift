// Turns the pgoutput message stream into change events, transaction by
// transaction. A pure state machine: no I/O, so it is tested on its own;
// `StreamMachine` feeds it decoded messages and turns what it answers (an
// event, a relation to resolve, a transaction committed) into actions.
//
// It also enforces invariant 2 of DESIGN §4: a transaction whose commit LSN
// is at or below the last stored one is a replay and produces nothing.

import EventStore
import PgOutput
import PostgresWire

struct ChangeAssembler {
    /// One encoded event, ready for the store.
    struct Record: Equatable {
        let commitLSN: LSN
        let ordinal: Int32
        let operation: EventEncoder.Operation
        let body: [UInt8]
        /// The row images, only for a change of the `watchedRelation`.
        var watched: WatchedChange?
        /// For an `s` event: the registry row to store in the same group.
        var newSchema: StoredTableSchema?
        /// Where the body leaves out what only the commit knows, when it is
        /// a streamed transaction's template (`templates(of:)`).
        var templateGaps: TemplateGaps?
    }

    /// A change of the table a watermark window is open on (`WatermarkSnapshot`).
    struct WatchedChange: Equatable {
        let old: TupleData?
        let new: TupleData?
        let isTruncate: Bool
        /// The transaction's xid, told against a held snapshot (`SnapshotVisibility`).
        var xid: UInt32 = 0
    }

    struct CommittedTransaction: Equatable {
        let commitLSN: LSN
        let endLSN: LSN
        let commitTime: PostgresTimestamp
        /// Events produced (zero when every row was filtered out).
        let events: Int
        /// The transaction's xid (0 for a non-transactional message).
        var xid: UInt32 = 0
    }

    enum Outcome: Equatable {
        case none
        /// A Relation message arrived: resolve it and `register` the schema
        /// before passing the next message.
        case needsSchema(Relation)
        case began
        /// One event of the open transaction.
        case event(Record)
        /// A truncate of several captured tables: an event for each.
        case events([Record])
        /// A replayed transaction ended; nothing of it was produced.
        case skipped
        case committed(CommittedTransaction)
        /// A transactional logical message with popsink's watermark prefix,
        /// inside a transaction that is not a replay.
        case watermark(LogicalMessage)
        /// A non-transactional message of the user's: one event that is its
        /// own transaction, at the message's LSN (`ChangeAssembler+Messages`).
        case standalone(Record, CommittedTransaction)
    }

    /// The prefix of the load's watermark messages (`pg_logical_emit_message`).
    static let watermarkPrefix = "popsink-load"

    /// Changes of this relation carry their row images (`Record.watched`).
    var watchedRelation: UInt32?

    enum Failure: Error, CustomStringConvertible {
        case unexpected(String)

        var description: String {
            switch self {
            case .unexpected(let what): "unexpected pgoutput message order: \(what)"
            }
        }
    }

    private struct OpenTransaction {
        let begin: Begin
        let skip: Bool
        let context: EventEncoder.TransactionContext
    }

    private var schemas: [UInt32: TableSchema] = [:]
    private var transaction: OpenTransaction?
    /// The next event's ordinal in the open transaction (kept out of
    /// `OpenTransaction` so a change does not copy the context).
    var ordinal: Int32 = 0
    var lastStoredCommit: LSN
    var encoder: EventEncoder
    /// The context of loaded rows, made once per high watermark transaction.
    private var loadContext: EventEncoder.TransactionContext?
    private var loadBackfill: String?

    /// Versions of the captured tables; nil leaves events unversioned and
    /// unannounced (unit tests of other rules).
    private var registry: SchemaRegistry?
    /// New versions whose `s` event goes before the relation's next change.
    private var announcements: [UInt32: SchemaVersion] = [:]
    /// Where the message being handled starts: where an announced version takes effect.
    private var currentChangeLSN = LSN.zero
    /// The pipeline's column masking, for the tables DDL capture describes.
    var columnMask: ColumnMask?

    /// The user's logical messages passed on as `m` events.
    let messages: MessageFilter

    init(
        database: String, lastStoredCommit: LSN, registry: SchemaRegistry? = nil, messages: MessageFilter = .off
    ) {
        self.lastStoredCommit = lastStoredCommit
        self.registry = registry
        self.messages = messages
        encoder = EventEncoder(database: database)
    }

    /// Inside a transaction that is a replay of a stored one.
    var isSkippingTransaction: Bool { transaction?.skip ?? false }
    /// The commit LSN of the transaction being received.
    var openCommitLSN: LSN? { transaction?.begin.finalLSN }

    /// Returns what the registry resolved the schema to (nil without one, or
    /// for a table not captured).
    @discardableResult
    mutating func register(_ schema: TableSchema) -> SchemaRegistry.Resolution? {
        guard let registry, schema.isCaptured else {
            schemas[schema.relation.oid] = schema
            return nil
        }
        let schema = registry.admittingNewColumns(schema)
        let resolution = registry.resolve(
            schema: schema.relation.namespace, table: schema.relation.name, relationOID: schema.relation.oid,
            columns: schema.columns)
        schemas[schema.relation.oid] = schema.versioned(resolution.version)
        announcements[schema.relation.oid] = resolution.announcement
        return resolution
    }

    // MARK: Streamed transactions encoded on arrival (StreamPreEncoding)

    /// An assembler of the streamed transaction `xid`'s events as templates,
    /// encoded as they arrive: the registry as it is now, no relation known yet.
    func templates(of xid: UInt32) -> ChangeAssembler {
        var copy = ChangeAssembler(database: "", lastStoredCommit: .zero, registry: registry)
        copy.encoder = encoder
        copy.columnMask = columnMask
        copy.transaction = OpenTransaction(
            begin: Begin(finalLSN: .zero, commitTime: PostgresTimestamp(unixMicroseconds: 0), xid: xid), skip: false,
            context: EventEncoder.TransactionContext(templateFor: xid))
        return copy
    }

    /// The pending `s` event of `oid`'s version was stored some other way
    /// (a template): the registry takes the version as announced.
    mutating func takeAnnouncement(of oid: UInt32) -> SchemaVersion? {
        guard let version = announcements.removeValue(forKey: oid) else { return nil }
        registry?.announced(version)
        return version
    }

    /// `count` events of the open transaction were stored as templates.
    mutating func countStored(_ count: Int32) { ordinal += count }

    /// Handles one message.
    mutating func received(_ message: PgOutputMessage, walStart: LSN) throws -> Outcome {
        currentChangeLSN = walStart
        switch message {
        case .begin(let begin):
            guard transaction == nil else { throw Failure.unexpected("Begin inside transaction \(begin.xid)") }
            let skip = begin.finalLSN <= lastStoredCommit
            ordinal = 0
            transaction = OpenTransaction(
                begin: begin, skip: skip,
                // Nothing of a skipped transaction is encoded.
                context: EventEncoder.TransactionContext(
                    begin: skip ? Begin(finalLSN: .zero, commitTime: begin.commitTime, xid: 0) : begin))
            return transaction!.skip ? .none : .began
        case .commit(let commit):
            guard let open = transaction else { throw Failure.unexpected("Commit outside a transaction") }
            transaction = nil
            if open.skip { return .skipped }
            lastStoredCommit = commit.commitLSN
            return .committed(
                CommittedTransaction(
                    commitLSN: commit.commitLSN, endLSN: commit.endLSN, commitTime: commit.commitTime,
                    events: Int(ordinal), xid: open.begin.xid))
        case .relation(let relation):
            return .needsSchema(relation)
        case .insert(let insert):
            return try change(
                .insert, relationOID: insert.relationOID,
                watched: WatchedChange(old: nil, new: insert.newTuple, isTruncate: false)
            ) { encoder, schema, context, ordinal in
                encoder.change(
                    .insert, schema: schema, transaction: context, lsn: walStart, ordinal: ordinal,
                    old: nil, new: insert.newTuple)
            }
        case .update(let update):
            return try change(
                .update, relationOID: update.relationOID,
                watched: WatchedChange(old: update.oldTuple?.tuple, new: update.newTuple, isTruncate: false)
            ) { encoder, schema, context, ordinal in
                encoder.change(
                    .update, schema: schema, transaction: context, lsn: walStart, ordinal: ordinal,
                    old: update.oldTuple, new: update.newTuple)
            }
        case .delete(let delete):
            return try change(
                .delete, relationOID: delete.relationOID,
                watched: WatchedChange(old: delete.oldTuple.tuple, new: nil, isTruncate: false)
            ) { encoder, schema, context, ordinal in
                encoder.change(
                    .delete, schema: schema, transaction: context, lsn: walStart, ordinal: ordinal,
                    old: delete.oldTuple, new: nil)
            }
        case .truncate(let truncate):
            var records: [Record] = []
            for oid in truncate.relationOIDs {
                let outcome = try change(
                    .truncate, relationOID: oid,
                    watched: WatchedChange(old: nil, new: nil, isTruncate: true)
                ) { encoder, schema, context, ordinal in
                    encoder.truncate(
                        schema: schema, transaction: context, lsn: walStart, ordinal: ordinal,
                        cascade: truncate.cascade, restartIdentity: truncate.restartIdentity)
                }
                if case .event(let record) = outcome { records.append(record) }
                if case .events(let announced) = outcome { records += announced }
            }
            return records.isEmpty ? .none : .events(records)
        case .message(let message):
            guard message.transactional else { return try standalone(message, insideTransaction: transaction != nil) }
            guard let open = transaction, !open.skip else { break }
            if message.prefix == Self.watermarkPrefix { return .watermark(message) }
            if message.prefix == DDLCapture.prefix { return ddl(message, context: open.context, walStart: walStart) }
            if messages.passes(prefix: message.prefix) { return userMessage(message, context: open.context) }
        case .origin, .type:
            // Origins carry no row changes; types are resolved from the
            // catalog when a relation uses them.
            break
        case .streamStart, .streamStop, .streamCommit, .streamAbort:
            throw Failure.unexpected("a streamed transaction, but streaming was not requested")
        }
        return .none
    }

    private mutating func change(
        _ operation: EventEncoder.Operation, relationOID: UInt32,
        watched: @autoclosure () -> WatchedChange,
        encode: (inout EventEncoder, TableSchema, EventEncoder.TransactionContext, Int32) -> [UInt8]
    ) throws -> Outcome {
        guard let open = transaction else { throw Failure.unexpected("a row change outside a transaction") }
        guard !open.skip else { return .none }
        guard let schema = schemas[relationOID] else {
            throw Failure.unexpected("a change for relation \(relationOID) before its Relation message")
        }
        guard schema.isCaptured else { return .none }
        let announcement = announcements.isEmpty ? nil : announce(relationOID, schema: schema, context: open.context)
        let body = encode(&encoder, schema, open.context, ordinal)
        var record = Record(commitLSN: open.begin.finalLSN, ordinal: ordinal, operation: operation, body: body)
        record.templateGaps = encoder.templateGaps
        if relationOID == watchedRelation {
            var change = watched()
            change.xid = open.begin.xid
            record.watched = change
        }
        ordinal += 1
        if let announcement { return .events([announcement, record]) }
        return .event(record)
    }

    /// The `s` event of the relation's new version, if one waits, numbered
    /// before the change about to be encoded with it.
    private mutating func announce(
        _ relationOID: UInt32, schema: TableSchema, context: EventEncoder.TransactionContext
    ) -> Record? {
        guard let version = announcements.removeValue(forKey: relationOID) else { return nil }
        registry?.announced(version)
        let lsn = currentChangeLSN
        let body = encoder.schemaChange(version, schema: schema, transaction: context, lsn: lsn, ordinal: ordinal)
        var record = Record(commitLSN: context.commitLSN, ordinal: ordinal, operation: .schema, body: body)
        record.newSchema = version.stored(lsn: lsn, commitLSN: context.commitLSN)
        record.templateGaps = encoder.templateGaps
        ordinal += 1
        return record
    }

    /// A command of DDL capture: for a table the registry has, its `s`
    /// event when the command changed the table's shape (or dropped it),
    /// then an `m` event carrying the command. DDL of other tables (not
    /// captured, filtered out, or never seen yet) produces nothing.
    private mutating func ddl(
        _ message: LogicalMessage, context: EventEncoder.TransactionContext, walStart: LSN
    ) -> Outcome {
        guard let registry, let command = DDLCommand(content: message.content),
            registry.contains(schema: command.schema, table: command.table)
        else { return .none }
        var version: SchemaVersion?
        let described = registry.admittingNewColumns(command.tableSchema(version: 0).masked(by: columnMask))
        if command.isTableDrop {
            version = registry.dropped(schema: command.schema, table: command.table, relationOID: command.oid)
            guard version != nil else { return .none }
        } else {
            version =
                registry.resolve(
                    schema: command.schema, table: command.table, relationOID: command.oid,
                    columns: described.columns
                ).announcement
        }
        var records: [Record] = []
        let current = registry.latest[SchemaRegistry.Name(schema: command.schema, table: command.table)]
        let table = described.versioned(version?.version ?? current?.version ?? 0)
        if let version {
            // A version a Relation message resolved but no change announced
            // yet is older than this one.
            announcements[command.oid] = nil
            self.registry?.announced(version)
            let body = encoder.schemaChange(
                version, schema: table, transaction: context, lsn: walStart, ordinal: ordinal)
            var record = Record(commitLSN: context.commitLSN, ordinal: ordinal, operation: .schema, body: body)
            record.newSchema = version.stored(lsn: walStart, commitLSN: context.commitLSN)
            records.append(record)
            ordinal += 1
        }
        let body = encoder.message(
            message, command: command, schema: table, transaction: context, lsn: walStart, ordinal: ordinal)
        records.append(Record(commitLSN: context.commitLSN, ordinal: ordinal, operation: .message, body: body))
        ordinal += 1
        return .events(records)
    }

    /// `schema` of a resumed snapshot's table as the registry numbers it,
    /// with the `s` event of its version when that was not announced yet.
    mutating func versionedForLoad(_ schema: TableSchema) throws -> (schema: TableSchema, announcement: Record?) {
        guard let registry, schema.isCaptured else { return (schema, nil) }
        guard let open = transaction, !open.skip else { throw Failure.unexpected("loaded rows outside a transaction") }
        let schema = registry.admittingNewColumns(schema)
        let relation = schema.relation
        let resolution = registry.resolve(
            schema: relation.namespace, table: relation.name, relationOID: relation.oid, columns: schema.columns)
        let versioned = schema.versioned(resolution.version)
        guard let version = resolution.announcement else { return (versioned, nil) }
        announcements[relation.oid] = version
        return (versioned, announce(relation.oid, schema: versioned, context: open.context))
    }

    /// Changes of the tables `names` (`schema.table`) are no longer captured.
    mutating func stopCapturing(_ names: Set<String>) {
        for (oid, schema) in schemas where names.contains(schema.relation.namespace + "." + schema.relation.name) {
            schemas[oid] = TableSchema(relation: schema.relation, kinds: [], keyColumns: [], isCaptured: false)
            announcements[oid] = nil
        }
    }

    /// The `s` event saying that `schema`'s table starts being captured, in
    /// the open transaction: its version as the registry numbers it (a new
    /// one is stored with the event), announced again when it was already.
    mutating func captureStarted(_ schema: TableSchema, walStart: LSN) throws -> Record? {
        guard let open = transaction, !open.skip else {
            throw Failure.unexpected("a table set change outside a transaction")
        }
        guard let registry else { return nil }
        let schema = registry.admittingNewColumns(schema)
        let relation = schema.relation
        let resolution = registry.resolve(
            schema: relation.namespace, table: relation.name, relationOID: relation.oid, columns: schema.columns)
        let version =
            resolution.announcement
            ?? registry.latest[SchemaRegistry.Name(schema: relation.namespace, table: relation.name)]
        guard let version else { return nil }
        var record = captureRecord(
            version, schema: schema.versioned(version.version), capture: .started, context: open.context,
            walStart: walStart)
        if resolution.announcement != nil {
            self.registry?.announced(version)
            announcements[relation.oid] = nil
            record.newSchema = version.stored(lsn: walStart, commitLSN: open.context.commitLSN)
        }
        return record
    }

    /// The `s` event saying that the table `name` (`schema.table`) is no
    /// longer captured, in the open transaction; nil for a table the stream
    /// never announced.
    mutating func captureStopped(_ name: String, walStart: LSN) throws -> Record? {
        guard let open = transaction, !open.skip else {
            throw Failure.unexpected("a table set change outside a transaction")
        }
        guard let version = registry?.latest.first(where: { $0.key.schema + "." + $0.key.table == name })?.value else {
            return nil
        }
        let relation = Relation(
            oid: version.relationOID, namespace: version.schema, name: version.table, replicaIdentity: .full,
            columns: [])
        let schema = TableSchema(
            relation: relation, kinds: [], keyColumns: [], isCaptured: false, schemaVersion: version.version)
        return captureRecord(version, schema: schema, capture: .stopped, context: open.context, walStart: walStart)
    }

    private mutating func captureRecord(
        _ version: SchemaVersion, schema: TableSchema, capture: EventEncoder.Capture,
        context: EventEncoder.TransactionContext, walStart: LSN
    ) -> Record {
        let body = encoder.schemaChange(
            version, schema: schema, transaction: context, lsn: walStart, ordinal: ordinal, capture: capture)
        defer { ordinal += 1 }
        return Record(commitLSN: context.commitLSN, ordinal: ordinal, operation: .schema, body: body)
    }

    /// A row of a resumed snapshot as an `r` event of the open transaction
    /// (the high watermark's), numbered after its other events.
    /// `backfill` names the on-demand backfill the row was read for.
    mutating func loadedRow(_ row: TupleData, schema: TableSchema, walStart: LSN, backfill: String? = nil) throws
        -> Record
    {
        guard let open = transaction, !open.skip else { throw Failure.unexpected("loaded rows outside a transaction") }
        if loadContext?.commitLSN != open.begin.finalLSN || loadBackfill != backfill {
            loadContext =
                backfill.map { EventEncoder.TransactionContext(snapshotAt: open.begin.finalLSN, backfill: $0) }
                ?? EventEncoder.TransactionContext(snapshotAt: open.begin.finalLSN)
            loadBackfill = backfill
        }
        let context = loadContext!
        let body = encoder.change(
            .read, schema: schema, transaction: context, lsn: walStart, ordinal: ordinal, old: nil, new: row)
        defer { ordinal += 1 }
        return Record(commitLSN: open.begin.finalLSN, ordinal: ordinal, operation: .read, body: body)
    }

    /// A truncate of `schema` marked as part of the load (`snapshot: true`):
    /// a table reloaded whole starts over from here.
    mutating func reloadMarker(schema: TableSchema, walStart: LSN) throws -> Record {
        guard let open = transaction, !open.skip else {
            throw Failure.unexpected("a reload marker outside a transaction")
        }
        let context = EventEncoder.TransactionContext(snapshotAt: open.begin.finalLSN)
        let body = encoder.truncate(schema: schema, transaction: context, lsn: walStart, ordinal: ordinal)
        defer { ordinal += 1 }
        return Record(commitLSN: open.begin.finalLSN, ordinal: ordinal, operation: .truncate, body: body)
    }
}
