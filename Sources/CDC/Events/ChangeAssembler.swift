// Turns the pgoutput message stream into change events, transaction by
// transaction. A pure state machine: no I/O, so it is tested on its own; the
// session feeds it decoded messages and executes what it asks for (resolve a
// relation from the catalog, store a record, commit a group).
//
// It also enforces invariant 2 of DESIGN §4: a transaction whose commit LSN
// is at or below the last stored one is a replay and produces nothing.

import PgOutput
import PostgresWire

struct ChangeAssembler {
    /// One encoded event, ready for the store.
    struct Record {
        let commitLSN: LSN
        let ordinal: Int32
        let operation: EventEncoder.Operation
        let body: [UInt8]
    }

    struct CommittedTransaction: Equatable {
        let commitLSN: LSN
        let endLSN: LSN
        let commitTime: PostgresTimestamp
        /// Events produced (zero when every row was filtered out).
        let events: Int
    }

    enum Outcome: Equatable {
        case none
        /// A Relation message arrived: resolve it and `register` the schema
        /// before passing the next message.
        case needsSchema(Relation)
        case began
        /// A replayed transaction ended; nothing of it was produced.
        case skipped
        case committed(CommittedTransaction)
    }

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
    private var ordinal: Int32 = 0
    private var lastStoredCommit: LSN
    private var encoder: EventEncoder

    init(database: String, filter: TableFilter, lastStoredCommit: LSN) {
        self.lastStoredCommit = lastStoredCommit
        encoder = EventEncoder(database: database)
    }

    mutating func register(_ schema: TableSchema) {
        schemas[schema.relation.oid] = schema
    }

    /// Handles one message; each event it produces goes to `emit` at once.
    mutating func received(
        _ message: PgOutputMessage, walStart: LSN, emit: (Record) throws -> Void
    ) throws -> Outcome {
        switch message {
        case .begin(let begin):
            guard transaction == nil else { throw Failure.unexpected("Begin inside transaction \(begin.xid)") }
            let skip = begin.finalLSN <= lastStoredCommit
            ordinal = 0
            transaction = OpenTransaction(
                begin: begin, skip: skip,
                // Nothing of a skipped transaction is encoded.
                context: EventEncoder.TransactionContext(begin: skip ? Begin(finalLSN: .zero, commitTime: begin.commitTime, xid: 0) : begin))
            return transaction!.skip ? .none : .began
        case .commit(let commit):
            guard let open = transaction else { throw Failure.unexpected("Commit outside a transaction") }
            transaction = nil
            if open.skip { return .skipped }
            lastStoredCommit = commit.commitLSN
            return .committed(CommittedTransaction(
                commitLSN: commit.commitLSN, endLSN: commit.endLSN, commitTime: commit.commitTime,
                events: Int(ordinal)))
        case .relation(let relation):
            return .needsSchema(relation)
        case .insert(let insert):
            try change(.insert, relationOID: insert.relationOID, walStart: walStart, emit: emit) { encoder, schema, context, ordinal in
                encoder.change(.insert, schema: schema, transaction: context, lsn: walStart, ordinal: ordinal,
                               old: nil, new: insert.newTuple)
            }
        case .update(let update):
            try change(.update, relationOID: update.relationOID, walStart: walStart, emit: emit) { encoder, schema, context, ordinal in
                encoder.change(.update, schema: schema, transaction: context, lsn: walStart, ordinal: ordinal,
                               old: update.oldTuple, new: update.newTuple)
            }
        case .delete(let delete):
            try change(.delete, relationOID: delete.relationOID, walStart: walStart, emit: emit) { encoder, schema, context, ordinal in
                encoder.change(.delete, schema: schema, transaction: context, lsn: walStart, ordinal: ordinal,
                               old: delete.oldTuple, new: nil)
            }
        case .truncate(let truncate):
            for oid in truncate.relationOIDs {
                try change(.truncate, relationOID: oid, walStart: walStart, emit: emit) { encoder, schema, context, ordinal in
                    encoder.truncate(schema: schema, transaction: context, lsn: walStart, ordinal: ordinal)
                }
            }
        case .origin, .type, .message:
            // Origins and logical messages carry no row changes; types are
            // resolved from the catalog when a relation uses them.
            break
        case .streamStart, .streamStop, .streamCommit, .streamAbort:
            throw Failure.unexpected("a streamed transaction, but streaming was not requested")
        }
        return .none
    }

    private mutating func change(
        _ operation: EventEncoder.Operation, relationOID: UInt32, walStart: LSN, emit: (Record) throws -> Void,
        encode: (inout EventEncoder, TableSchema, EventEncoder.TransactionContext, Int32) -> [UInt8]
    ) throws {
        guard let open = transaction else { throw Failure.unexpected("a row change outside a transaction") }
        guard !open.skip else { return }
        guard let schema = schemas[relationOID] else {
            throw Failure.unexpected("a change for relation \(relationOID) before its Relation message")
        }
        guard schema.isCaptured else { return }
        let body = encode(&encoder, schema, open.context, ordinal)
        try emit(Record(commitLSN: open.begin.finalLSN, ordinal: ordinal, operation: operation, body: body))
        ordinal += 1
    }
}
