// The user's own logical decoding messages (`pg_logical_emit_message`) as
// `m` events, for the prefixes the pipeline's `MessageFilter` passes.
//
// A transactional message is decoded in its place among its transaction's
// changes, and becomes an event of that transaction in that order (a
// streamed transaction stages it like a row change, `StreamStaging`).
// A non-transactional one is decoded at its LSN, outside any transaction,
// even if the transaction that wrote it aborts: it becomes an event of its
// own whose id and commit LSN are the message's LSN. WAL order puts it
// after every transaction committed before it and before every one
// committed after, so the checkpoint's commit LSN skips it on a replay
// exactly as it skips a transaction (DESIGN §4 invariant 2).

import PgOutput
import PostgresWire

extension ChangeAssembler {
    /// A transactional message of the user's, as the next event of the open transaction.
    mutating func userMessage(_ message: LogicalMessage, context: EventEncoder.TransactionContext) -> Outcome {
        let body = encoder.message(message, transaction: context, ordinal: ordinal)
        defer { ordinal += 1 }
        return .event(Record(commitLSN: context.commitLSN, ordinal: ordinal, operation: .message, body: body))
    }

    /// A non-transactional message: its own event, or nothing when the
    /// filter does not pass it or it is stored already.
    mutating func standalone(_ message: LogicalMessage, insideTransaction: Bool) throws -> Outcome {
        guard messages.passes(prefix: message.prefix), message.lsn > lastStoredCommit else { return .none }
        guard !insideTransaction else {
            throw Failure.unexpected("a non-transactional message at \(message.lsn) inside a transaction")
        }
        let context = EventEncoder.TransactionContext(nonTransactionalAt: message.lsn)
        let body = encoder.message(message, transaction: context, ordinal: 0)
        lastStoredCommit = message.lsn
        // Its "commit time" is when it was decoded: the message carries none.
        let decodedAt = PostgresTimestamp(unixMicroseconds: WallClock.unixMicroseconds())
        return .standalone(
            Record(commitLSN: message.lsn, ordinal: 0, operation: .message, body: body),
            CommittedTransaction(commitLSN: message.lsn, endLSN: message.lsn, commitTime: decodedAt, events: 1))
    }
}
