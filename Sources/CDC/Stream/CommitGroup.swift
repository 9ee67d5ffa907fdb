// The group being built in the store: events of several transactions committed
// in one store transaction together with the checkpoint that covers them
// (DESIGN §6, group commit). A group closes at a transaction boundary when the
// socket has nothing more buffered, or once it reaches the policy's size or age.

import EventStore
import PostgresWire

struct CommitGroup {
    /// What one group commit stored, for the status and the latency histogram.
    struct Summary: Equatable {
        let checkpoint: Checkpoint
        let events: Int
        let transactions: Int
        let operations: OperationCounts
        /// Commit times of the group's transactions, in order.
        let commitTimes: [PostgresTimestamp]
    }

    private(set) var isOpen = false
    private(set) var events = 0
    private(set) var transactions = 0
    private var operations = OperationCounts()
    private var openedAt: ContinuousClock.Instant?
    /// The checkpoint the completed transactions give once committed; nil
    /// while the group holds none (only staged rows of streamed transactions).
    private(set) var checkpoint: Checkpoint?
    private var commitTimes: [PostgresTimestamp] = []

    mutating func open(at now: ContinuousClock.Instant) {
        isOpen = true
        openedAt = now
    }

    mutating func appended(_ operation: EventEncoder.Operation) {
        events += 1
        operations.count(operation)
    }

    /// `events` of a streamed transaction stored as templates, by operation.
    mutating func appended(events: Int, operations: OperationCounts) {
        self.events += events
        self.operations += operations
    }

    mutating func completed(commitTime: PostgresTimestamp, checkpoint: Checkpoint) {
        transactions += 1
        commitTimes.append(commitTime)
        self.checkpoint = checkpoint
    }

    /// The size or age limit is reached.
    func isDue(_ policy: GroupCommitPolicy, now: ContinuousClock.Instant) -> Bool {
        events >= policy.maxEvents || openedAt.map { now - $0 >= policy.maxDelay } ?? false
    }

    /// Closes the group; `checkpoint` is what it commits with.
    mutating func close(checkpoint: Checkpoint) -> Summary {
        let summary = Summary(
            checkpoint: checkpoint, events: events, transactions: transactions, operations: operations,
            commitTimes: commitTimes)
        self = CommitGroup()
        return summary
    }

    /// Drops the group without storing it.
    mutating func discard() { self = CommitGroup() }
}
