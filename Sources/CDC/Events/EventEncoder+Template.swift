// The commit's part of a streamed transaction's events. They are encoded
// as they arrive, as templates (`TransactionContext(templateFor:)`): the id,
// `ts_ms`, and the source's `commit_lsn` and `commit_ts` are left out, and
// the store splices in what this returns when the transaction commits
// (EventStore's EventTemplate.swift). What it returns is cut from the very
// context an event encoded at commit would use, so the events read back are
// byte for byte the ones a decode at commit makes.

import EventStore
import PgOutput
import PostgresWire

extension EventEncoder {
    /// What completes the templates of the transaction that committed at
    /// `commitLSN` and `commitTime`, numbered from `firstOrdinal`, made
    /// visible at `nowMicros` (their `ts_ms`).
    static func completion(
        commitLSN: LSN, commitTime: PostgresTimestamp, firstOrdinal: Int32, nowMicros: Int64
    ) -> TemplateCompletion {
        let context = TransactionContext(begin: Begin(finalLSN: commitLSN, commitTime: commitTime, xid: 0))
        let tail = TransactionContext.templateSourceEnd
        precondition(context.sourceEnd.suffix(tail.count).elementsEqual(tail), "the source ends as templates do")
        var milliseconds = JSONWriter()
        milliseconds.fragmentDigits(UInt64(max(0, nowMicros / 1000)))
        return TemplateCompletion(
            commitLSN: commitLSN, firstOrdinal: firstOrdinal, prefix: context.idPrefix, firstGap: milliseconds.bytes,
            secondGap: Array(context.sourceEnd.dropLast(tail.count)))
    }
}
