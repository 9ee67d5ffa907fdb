// What a group commit stored and when, returned by `commitGroup` so the
// pipeline can publish progress and time its commits without asking the store.

/// The result of one group commit.
public struct GroupReceipt: Sendable, Hashable {
    /// Sequence of the group's first event; `lastSequence + 1` when it stored none.
    public let firstSequence: Int64
    /// Sequence of the group's last event (the store's new last sequence).
    public let lastSequence: Int64
    /// Events the group stored.
    public let eventCount: Int64
    /// Sum of the stored bodies' sizes.
    public let bodyBytes: Int64
    /// When `beginGroup` ran, unix microseconds.
    public let beganAtMicros: Int64
    /// When COMMIT was issued (stored in the group's row), unix microseconds.
    public let committedAtMicros: Int64
    /// When COMMIT returned and the group was durable, unix microseconds.
    public let durableAtMicros: Int64

    /// Time spent making the group durable (mostly the fsync), in microseconds.
    public var commitMicros: Int64 { durableAtMicros - committedAtMicros }
}
