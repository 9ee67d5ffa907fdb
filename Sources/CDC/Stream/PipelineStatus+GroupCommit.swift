// What a durable group of the stream adds to the pipeline's status: its
// events, transactions and operations, the commit-to-durable latency of each
// of its transactions, and the resumed snapshot's progress.

import EventStore

extension PipelineStatus {
    mutating func groupCommitted(
        _ summary: CommitGroup.Summary, receipt: GroupReceipt, snapshot: StreamAction.SnapshotUpdate?
    ) {
        flushedLSN = summary.checkpoint.flushLSN
        eventsStored += Int64(summary.events)
        eventsByOperation += summary.operations
        transactionsStored += Int64(summary.transactions)
        lastCommitTime = summary.commitTimes.last ?? lastCommitTime
        for commitTime in summary.commitTimes {
            commitToDurable.observe(milliseconds: Double(receipt.durableAtMicros - commitTime.unixMicroseconds) / 1000)
        }
        if let snapshot {
            self.snapshot = snapshot.tables
            if snapshot.finished { state = .streaming }
        }
    }
}
