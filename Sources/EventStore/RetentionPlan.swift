// The decision of one retention step, without I/O: given the oldest groups,
// what is stored, the policy and the consumers, up to which sequence to delete
// now. Steps are bounded (events and bytes) so a store that is far over its
// limits catches up over many short transactions and never holds the
// writer's lock for long.

/// A committed group as retention sees it.
public struct RetainedGroup: Sendable, Hashable {
    public var firstSequence: Int64
    public var lastSequence: Int64
    public var bodyBytes: Int64
    public var committedAtMicros: Int64

    public init(firstSequence: Int64, lastSequence: Int64, bodyBytes: Int64, committedAtMicros: Int64) {
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.bodyBytes = bodyBytes
        self.committedAtMicros = committedAtMicros
    }
}

/// How much one step may delete.
public struct RetentionBudget: Sendable, Hashable {
    public var maxEvents: Int64
    public var maxBytes: Int64

    /// 10,000 events or 64 MiB of bodies per step.
    public static let `default` = RetentionBudget(maxEvents: 10_000, maxBytes: 64 << 20)

    public init(maxEvents: Int64, maxBytes: Int64) {
        self.maxEvents = max(1, maxEvents)
        self.maxBytes = max(1, maxBytes)
    }
}

/// What one step should do.
public struct RetentionDecision: Sendable, Hashable {
    /// Delete every event up to here; nil when nothing is due.
    public var deleteThrough: Int64?
    /// True when the budget, not the policy, ended the step: call again soon.
    public var moreDue: Bool

    public init(deleteThrough: Int64?, moreDue: Bool) {
        self.deleteThrough = deleteThrough
        self.moreDue = moreDue
    }
}

public enum RetentionPlan {
    /// - Parameters:
    ///   - oldest: the oldest groups, in sequence order (enough to fill one budget).
    ///   - firstSequence: the oldest event still stored (a group may be partly deleted).
    ///   - storedBytes: body bytes of every group still stored.
    ///   - heldThrough: the lowest sequence a registered, not yet lost, consumer
    ///     has acknowledged; nil when no consumer holds events.
    public static func decide(
        oldest: [RetainedGroup], firstSequence: Int64, storedBytes: Int64, policy: RetentionPolicy,
        heldThrough: Int64?, nowMicros: Int64, budget: RetentionBudget = .default
    ) -> RetentionDecision {
        let horizon = policy.maxAgeMicros.map { nowMicros - $0 }
        var remaining = storedBytes
        var through: Int64?
        var bytes: Int64 = 0
        for group in oldest where group.lastSequence >= firstSequence {
            let old = horizon.map { group.committedAtMicros < $0 } ?? false
            let large = policy.maxBytes.map { remaining > $0 } ?? false
            let overCap = policy.hardMaxBytes.map { remaining > $0 } ?? false
            // What the age and size limits may delete stops at the consumers'
            // position; the hard cap does not.
            var end: Int64
            if overCap {
                end = group.lastSequence
            } else if old || large {
                end = min(group.lastSequence, heldThrough ?? .max)
            } else {
                break
            }
            let start = max(group.firstSequence, firstSequence)
            guard end >= start else { break }
            // The budget: whole groups while they fit, then part of one.
            let eventsBefore = (through ?? (firstSequence - 1)) - (firstSequence - 1)
            let groupEvents = group.lastSequence - group.firstSequence + 1
            let perEvent = max(1, group.bodyBytes / max(1, groupEvents))
            let eventsLeft = budget.maxEvents - eventsBefore
            let bytesLeft = budget.maxBytes - bytes
            let fit = min(eventsLeft, max(0, bytesLeft) / perEvent)
            if end - start + 1 > fit {
                let partial = start - 1 + max(fit, through == nil ? 1 : 0)
                if partial >= start { through = partial }
                return RetentionDecision(deleteThrough: through, moreDue: true)
            }
            through = end
            bytes += (end - start + 1) * perEvent
            if end < group.lastSequence { return RetentionDecision(deleteThrough: through, moreDue: false) }
            remaining -= group.bodyBytes
        }
        // Ran out of groups in view: there may be more due past them.
        let moreDue = through != nil && through == oldest.last?.lastSequence
        return RetentionDecision(deleteThrough: through, moreDue: moreDue)
    }
}
