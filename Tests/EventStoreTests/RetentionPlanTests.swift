// The retention decision alone: age, size, the step budget, consumers that
// hold events back and the hard cap that wins over them.

import EventStore
import Testing

@Suite struct RetentionPlanTests {
    /// Ten groups of ten events of 100 bytes each (1,000 bytes per group),
    /// committed at 1, 2, ... 10 seconds (in microseconds).
    let groups: [RetainedGroup] = (0..<10).map { (index: Int) -> RetainedGroup in
        let first = Int64(index) * 10 + 1
        return RetainedGroup(
            firstSequence: first, lastSequence: first + 9, bodyBytes: 1_000,
            committedAtMicros: (Int64(index) + 1) * 1_000_000)
    }
    let roomy = RetentionBudget(maxEvents: 1_000, maxBytes: 1 << 30)

    func decide(
        _ policy: RetentionPolicy, first: Int64 = 1, held: Int64? = nil, now: Int64 = 10_000_000,
        budget: RetentionBudget? = nil
    ) -> RetentionDecision {
        RetentionPlan.decide(
            oldest: groups.filter { $0.lastSequence >= first }, firstSequence: first,
            storedBytes: Int64(groups.filter { $0.lastSequence >= first }.count * 1_000), policy: policy,
            heldThrough: held, nowMicros: now, budget: budget ?? roomy)
    }

    @Test func byAge() {
        // Keep 3.5 s at now = 10 s: groups committed before 6.5 s go (1...6).
        let policy = RetentionPolicy(maxAge: .milliseconds(3_500), maxBytes: nil, hardMaxBytes: nil)
        #expect(decide(policy) == RetentionDecision(deleteThrough: 60, moreDue: false))
        #expect(decide(.keepAll).deleteThrough == nil)
        #expect(decide(RetentionPolicy(maxAge: .seconds(60), maxBytes: nil, hardMaxBytes: nil)).deleteThrough == nil)
    }

    @Test func bySize() {
        let policy = RetentionPolicy(maxAge: nil, maxBytes: 2_500, hardMaxBytes: nil)
        // 10,000 bytes stored, 2,500 kept: whole groups, so the newest 2 stay.
        #expect(decide(policy) == RetentionDecision(deleteThrough: 80, moreDue: false))
        #expect(decide(RetentionPolicy(maxAge: nil, maxBytes: 10_000, hardMaxBytes: nil)).deleteThrough == nil)
    }

    @Test func theBudgetSplitsTheWorkIntoSteps() {
        let policy = RetentionPolicy(maxAge: nil, maxBytes: 2_500, hardMaxBytes: nil)
        // 25 events per step: two whole groups, then five events of the third.
        #expect(
            decide(policy, budget: RetentionBudget(maxEvents: 25, maxBytes: 1 << 30))
                == RetentionDecision(deleteThrough: 25, moreDue: true))
        // Continuing from a partly deleted group.
        #expect(
            decide(policy, first: 26, budget: RetentionBudget(maxEvents: 25, maxBytes: 1 << 30))
                == RetentionDecision(deleteThrough: 50, moreDue: true))
        // 350 bytes per step is 3 events of 100 bytes.
        #expect(
            decide(policy, budget: RetentionBudget(maxEvents: 1_000, maxBytes: 350))
                == RetentionDecision(deleteThrough: 3, moreDue: true))
        // A budget below one event still deletes one, so retention progresses.
        #expect(
            decide(policy, budget: RetentionBudget(maxEvents: 1_000, maxBytes: 1))
                == RetentionDecision(deleteThrough: 1, moreDue: true))
    }

    @Test func consumersHoldEventsBackUntilTheHardCap() {
        let soft = RetentionPolicy(maxAge: .seconds(1), maxBytes: 2_500, hardMaxBytes: nil)
        // Everything is due by age, but a consumer acknowledged only up to 34.
        #expect(decide(soft, held: 34) == RetentionDecision(deleteThrough: 34, moreDue: false))
        #expect(decide(soft, held: 0).deleteThrough == nil)
        // The hard cap wins: 10,000 bytes stored, at most 4,000 kept.
        let capped = RetentionPolicy(maxAge: .seconds(1), maxBytes: 2_500, hardMaxBytes: 4_000)
        #expect(decide(capped, held: 0).deleteThrough == 60)
        // A consumer past the hard cap's cut-off holds the rest back.
        #expect(decide(capped, held: 75).deleteThrough == 75)
    }

    @Test func policyValidation() {
        #expect(RetentionPolicy.default.violation == nil)
        #expect(RetentionPolicy(maxAge: nil, maxBytes: 100, hardMaxBytes: 99).violation != nil)
        #expect(RetentionPolicy(maxAge: .zero, maxBytes: nil, hardMaxBytes: nil).violation != nil)
        #expect(RetentionPolicy(maxAge: nil, maxBytes: 0, hardMaxBytes: nil).violation != nil)
    }
}
