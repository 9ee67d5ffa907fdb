// What a sink reports: the figures behind the planned metrics
// (`popsink_sink_delivered_total`, `popsink_sink_backlog_events`,
// `popsink_sink_delivery_seconds`, `popsink_sink_errors_total{kind}`) and
// the state an API status shows.

import EventStore

/// A snapshot of one sink.
public struct SinkStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Connecting and reading the target back.
        case starting
        /// Forwarding, or caught up and waiting for new events.
        case running
        /// The target failed; waiting to reconnect.
        case retrying
        /// Stopped for good until restarted: `lastError` says why and what to do.
        case parked
        case stopped
    }

    public var name: String
    public var type: String
    public var state: State = .starting
    /// Every event up to this sequence is in the target.
    public var deliveredSequence: Int64 = 0
    public var deliveredEventID: EventID?
    /// The store's highest sequence when last looked at.
    public var storeSequence: Int64 = 0
    /// Events delivered by this forwarder since it started (`popsink_sink_delivered_total`).
    public var deliveredTotal: Int64 = 0
    /// Events that retention deleted before the sink delivered them.
    public var lostEvents: Int64 = 0
    /// Reconnects after a failure (`popsink_sink_retries_total`).
    public var retries: Int64 = 0
    /// Failures by kind (`popsink_sink_errors_total{kind}`).
    public var errors: [SinkError.Kind: Int64] = [:]
    public var lastError: String?
    /// Time from reading a batch from the store to its last acknowledgement (`popsink_sink_delivery_seconds`).
    public var deliverySeconds = DeliveryHistogram()

    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }

    /// Events stored and not yet in the target (`popsink_sink_backlog_events`).
    public var backlogEvents: Int64 { max(0, storeSequence - deliveredSequence) }
}

/// A Prometheus-style histogram of delivery times in seconds.
public struct DeliveryHistogram: Sendable, Hashable {
    public static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Per bound, observations at or below it (not cumulative); the last slot counts those above every bound.
    public private(set) var counts = [Int64](repeating: 0, count: bounds.count + 1)
    public private(set) var sum: Double = 0
    public private(set) var count: Int64 = 0

    public init() {}

    public mutating func observe(_ seconds: Double) {
        let slot = Self.bounds.firstIndex(where: { seconds <= $0 }) ?? Self.bounds.count
        counts[slot] += 1
        sum += seconds
        count += 1
    }
}
