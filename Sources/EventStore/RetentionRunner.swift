// Runs retention on the pipeline's thread, one bounded step at a time, between
// group commits: the writer's connection is the only one that deletes, so
// deleting never waits for, nor stalls, a group behind another connection's
// lock. Each step is one short transaction (`deleteEvents`) that deletes the
// oldest events due (at most one `RetentionBudget`) and, in the same
// transaction, marks the consumers whose unacknowledged events the hard cap
// deleted.
//
// The bytes stored are counted once when the runner starts and then kept up
// to date from the groups committed since and deleted by each step, so a step
// reads only the front and the back of the `groups` table, never all of it.

import PostgresWire

/// What one step did.
public struct RetentionStep: Sendable, Hashable {
    /// Events deleted.
    public var deletedEvents: Int64 = 0
    /// Every event up to here is gone; nil when the step deleted nothing.
    public var deletedThrough: Int64?
    /// Consumers marked as having lost events in this step.
    public var consumersLost: [String] = []
    /// More is due now: call `step` again soon (the budget ended this one).
    public var moreDue = false
}

/// Applies a `RetentionPolicy` to one writer's store.
///
/// Not `Sendable`: it belongs to the writer's thread. Call `step(nowMicros:)`
/// when the pipeline is between groups, for example whenever it is idle and at
/// least every few seconds while it is busy; call again at once while
/// `moreDue` is true.
public final class RetentionRunner {
    public let policy: RetentionPolicy
    public let budget: RetentionBudget
    /// Why the last paced step failed; nil after one succeeds.
    public internal(set) var lastError: EventStoreError?
    let writer: EventStoreWriter
    var nextDueMicros: Int64 = .min
    /// Body bytes of the groups still stored, as of `countedThrough`.
    private var storedBytes: Int64 = 0
    private var countedThrough: Int64 = 0
    private var counted = false

    public init(writer: EventStoreWriter, policy: RetentionPolicy, budget: RetentionBudget = .default) {
        self.writer = writer
        self.policy = policy
        self.budget = budget
    }

    /// Body bytes of the events stored (counted per whole group).
    public func storedBodyBytes() throws(EventStoreError) -> Int64 {
        try refreshCount()
        return storedBytes
    }

    /// Deletes what is due, at most one budget's worth, in one transaction.
    /// Not allowed while a group is open.
    @discardableResult
    public func step(nowMicros: Int64 = WallClock.unixMicroseconds()) throws(EventStoreError) -> RetentionStep {
        let operation = "apply retention"
        guard !writer.isGroupOpen, writer.connection.isOpen else {
            let why = writer.isGroupOpen ? "a group is open" : "the writer is closed"
            throw .misuse(why, operation: operation, path: writer.path)
        }
        try refreshCount()
        guard let first = try writer.queries.firstSequence() else { return RetentionStep() }
        let oldest = try oldestGroups(limit: 512)
        let decision = RetentionPlan.decide(
            oldest: oldest, firstSequence: first, storedBytes: storedBytes, policy: policy,
            heldThrough: try lowestHeldPosition(), nowMicros: nowMicros, budget: budget)
        guard let through = decision.deleteThrough else { return RetentionStep() }

        let freed = oldest.filter { $0.lastSequence <= through }.reduce(0) { $0 + $1.bodyBytes }
        let (deleted, lost) = try writer.deleteEvents(upTo: through, nowMicros: nowMicros)
        storedBytes -= freed
        return RetentionStep(
            deletedEvents: deleted, deletedThrough: through, consumersLost: lost, moreDue: decision.moreDue)
    }

    /// Counts all groups once, then only those committed since.
    private func refreshCount() throws(EventStoreError) {
        let operation = "count stored bytes"
        let query = try writer.connection.prepare(
            "SELECT coalesce(sum(body_bytes), 0), coalesce(max(last_seq), ?1) FROM groups WHERE last_seq > ?1",
            operation: operation)
        defer { query.finalize() }
        query.bind(counted ? countedThrough : -1, at: 1)
        guard try query.step(operation) else { return }
        storedBytes += query.int64(0)
        countedThrough = max(countedThrough, query.int64(1))
        counted = true
    }

    private func oldestGroups(limit: Int) throws(EventStoreError) -> [RetainedGroup] {
        let operation = "read the oldest groups"
        let query = try writer.connection.prepare(
            "SELECT first_seq, last_seq, body_bytes, committed_at_us FROM groups ORDER BY last_seq LIMIT ?1",
            operation: operation)
        defer { query.finalize() }
        query.bind(Int64(limit), at: 1)
        var groups: [RetainedGroup] = []
        while try query.step(operation) {
            groups.append(
                RetainedGroup(
                    firstSequence: query.int64(0), lastSequence: query.int64(1), bodyBytes: query.int64(2),
                    committedAtMicros: query.int64(3)))
        }
        return groups
    }

    /// The lowest position a consumer that has lost nothing has acknowledged.
    private func lowestHeldPosition() throws(EventStoreError) -> Int64? {
        let operation = "read consumer positions"
        let query = try writer.connection.prepare(
            "SELECT min(acked_seq) FROM consumers WHERE lost_through IS NULL", operation: operation)
        defer { query.finalize() }
        guard try query.step(operation), !query.isNull(0) else { return nil }
        return query.int64(0)
    }
}
