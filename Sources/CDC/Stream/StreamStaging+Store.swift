// The store writes of the machine's staging actions (`stage`, `stageEvent`):
// a streamed transaction's row change or event template, filed under its
// transaction and subtransaction in the open group.

import EventStore
import PostgresWire

extension EventStoreWriter {
    /// The `stage` action: the message behind its WAL start (`StreamStaging.stagedRow`).
    func stage(_ target: StreamStaging.Target, walStart: LSN, message: [UInt8]) throws(EventStoreError) {
        try stage(
            transaction: target.transaction, subtransaction: target.subtransaction,
            message: StreamStaging.stagedRow(walStart: walStart, message: message)[...])
    }

    /// The `stageEvent` action.
    func stageEvent(_ target: StreamStaging.Target, template: [UInt8], gaps: TemplateGaps) throws(EventStoreError) {
        try stageEvent(
            transaction: target.transaction, subtransaction: target.subtransaction, template: template, gaps: gaps)
    }
}
