// Streamed transactions encoded as they arrive (issue 18). Decoding and
// encoding a big transaction's changes one by one at its Stream Commit made
// its events visible seconds after it committed (21 s for 2,000,000 rows).
// So each change is also encoded on arrival, as an event template
// (`EventEncoder.TransactionContext(templateFor:)`) staged beside the raw
// message, and at Stream Commit the templates become the events in one move
// of compressed blocks (EventStore's EventTemplate.swift).
//
// The encoding on arrival is a guess at what the encoding at commit would
// produce: it resolves the transaction's relations against the schema
// registry as it is then. At commit the same resolutions are done again, in
// order, on a copy of the stream's own state; only if every one agrees, no
// watermark window watches one of the tables and the captured table set did
// not change meanwhile, are the templates used, and the copy becomes the
// state. Otherwise (and for a transaction carrying a DDL capture message,
// or whose first change of a new version was rolled back to a savepoint) the
// staged raw messages are decoded at commit as before, so the events are the
// same either way. A pure value, like the machine that holds it.

import EventStore
import PgOutput
import PostgresWire

struct StreamPreEncoding {
    /// A committed streamed transaction whose templates become its events.
    struct Move: Equatable {
        let transaction: UInt32
        let commitLSN: LSN
        let commitTime: PostgresTimestamp
        /// How many templates the store must find.
        let events: Int
    }

    /// What encoding one change did to the schema state, replayed at commit.
    private enum Step {
        case registered(TableSchema, SchemaRegistry.Resolution?)
        case announced(relationOID: UInt32)
    }

    private struct Transaction {
        var assembler: ChangeAssembler
        let tableSetGeneration: Int
        var isUsable = true
        var steps: [Step] = []
        var counts: [UInt32: (events: Int, operations: OperationCounts)] = [:]
        /// Subtransactions whose changes carried an `s` event.
        var announcedIn: Set<UInt32> = []
        /// The versions announced, to record with the commit's LSN.
        var versions: [StoredTableSchema] = []

        mutating func giveUp() {
            isUsable = false
            steps = []
            versions = []
        }
    }

    let isEnabled: Bool
    private var transactions: [UInt32: Transaction] = [:]
    /// The transaction whose Relation is being looked up.
    private var awaitingSchema: UInt32?
    private var tableSetGeneration = 0

    init(isEnabled: Bool) {
        self.isEnabled = isEnabled
    }

    /// The captured table set changed: transactions encoded before may have
    /// used the old one.
    mutating func tableSetChanged() { tableSetGeneration += 1 }

    /// A message of a streamed transaction was staged at `target`: encode it too.
    mutating func staged(
        _ message: PgOutputMessage, target: StreamStaging.Target, walStart: LSN, stream: ChangeAssembler,
        into actions: inout [StreamAction]
    ) {
        guard isEnabled else { return }
        let xid = target.transaction
        // Taken out and put back, so the encoder's buffer is never copied.
        var encoded =
            transactions.removeValue(forKey: xid)
            ?? Transaction(assembler: stream.templates(of: xid), tableSetGeneration: tableSetGeneration)
        defer { transactions[xid] = encoded }
        guard encoded.isUsable else { return }
        switch message {
        case .relation(let relation):
            awaitingSchema = xid
            actions.append(.lookUpStagedSchema(relation))
            return
        case .insert, .update, .delete, .truncate:
            break
        default:
            // A captured DDL command changes the registry mid-transaction: decoded at commit.
            return encoded.giveUp()
        }
        let records: [ChangeAssembler.Record]
        switch try? encoded.assembler.received(message, walStart: walStart) {
        case .event(let record)?: records = [record]
        case .events(let several)?: records = several
        case .none?: records = []
        default: return encoded.giveUp()
        }
        for record in records {
            guard let gaps = record.templateGaps else { return encoded.giveUp() }
            if let version = record.newSchema {
                encoded.steps.append(.announced(relationOID: version.relationOID))
                encoded.announcedIn.insert(target.subtransaction)
                encoded.versions.append(version)
            }
            encoded.counts[target.subtransaction, default: (0, OperationCounts())].events += 1
            encoded.counts[target.subtransaction]!.operations.count(record.operation)
            actions.append(.stageEvent(target, template: record.body, gaps: gaps))
        }
    }

    /// The schema a Relation staged by `staged` resolved to. The catalog is
    /// read before the transaction commits, so it does not show what the
    /// transaction itself creates: a column or table it added has no facts
    /// yet (nullable unknown), a type it created none at all (nil). Such a
    /// transaction is decoded at commit, when the catalog shows them.
    mutating func resolved(_ schema: TableSchema?) {
        guard let xid = awaitingSchema else { return }
        awaitingSchema = nil
        guard transactions[xid]?.isUsable == true else { return }
        guard let schema, !schema.isCaptured || schema.columns.allSatisfy({ $0.isNullable != nil }) else {
            transactions[xid]!.giveUp()
            return
        }
        let resolution = transactions[xid]!.assembler.register(schema)
        transactions[xid]!.steps.append(.registered(schema, resolution))
    }

    mutating func aborted(_ abort: StreamAbort) {
        guard isEnabled else { return }
        if abort.abortsTransaction {
            transactions[abort.xid] = nil
        } else if transactions[abort.xid]?.announcedIn.contains(abort.subtransactionXid) == true {
            // The commit would announce the version at a later change.
            transactions[abort.xid]?.giveUp()
        } else {
            transactions[abort.xid]?.counts[abort.subtransactionXid] = nil
        }
    }

    /// At Stream Commit, with the stream's transaction begun in `assembler`:
    /// when the templates are what decoding now would give, appends the
    /// actions that store them (counted in `group`), adopts their effect on
    /// the schema state and returns true; false to decode the staged messages.
    mutating func committed(
        _ commit: StreamCommit, assembler: inout ChangeAssembler, group: inout CommitGroup,
        into actions: inout [StreamAction]
    ) -> Bool {
        guard let encoded = transactions.removeValue(forKey: commit.xid), encoded.isUsable,
            encoded.tableSetGeneration == tableSetGeneration
        else { return false }
        var adopted = assembler
        for step in encoded.steps {
            switch step {
            case .registered(let schema, let resolution):
                if let watched = adopted.watchedRelation, watched == schema.relation.oid { return false }
                guard adopted.register(schema) == resolution else { return false }
            case .announced(let oid):
                guard adopted.takeAnnouncement(of: oid) != nil else { return false }
            }
        }
        let events = encoded.counts.values.reduce(0) { $0 + $1.events }
        guard events <= Int(Int32.max) else { return false }
        var operations = OperationCounts()
        for count in encoded.counts.values { operations += count.operations }
        adopted.countStored(Int32(events))
        assembler = adopted
        for var version in encoded.versions {
            version.commitLSN = commit.commitLSN
            actions.append(.recordSchema(version))
        }
        actions.append(
            .commitStagedEvents(
                Move(
                    transaction: commit.xid, commitLSN: commit.commitLSN, commitTime: commit.commitTime, events: events)
            ))
        group.appended(events: events, operations: operations)
        return true
    }

}

extension StreamPreEncoding.Move {
    /// Carries the move out in the store's open group.
    func perform(on store: EventStoreWriter) throws {
        let completion = EventEncoder.completion(
            commitLSN: commitLSN, commitTime: commitTime, firstOrdinal: 0, nowMicros: WallClock.unixMicroseconds())
        let moved = try store.commitStagedEvents(transaction: transaction, completion: completion)
        guard moved == Int64(events) else {
            store.rollbackGroup()
            throw PipelineError(
                .store,
                "the store holds \(moved) staged events of transaction \(transaction) where the stream encoded \(events)",
                retryable: true,
                remediation:
                    "The pipeline reconnects and Postgres streams the transaction again; report this if it repeats.")
        }
    }
}
