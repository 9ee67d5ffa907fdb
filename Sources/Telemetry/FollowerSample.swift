// What `/metrics` shows of those who follow a pipeline's store: its sinks
// and its named consumers. Plain figures, so Telemetry needs neither the
// sinks nor the store module.

/// One sink of a pipeline at scrape time.
public struct SinkSample: Sendable {
    public var name: String
    public var type: String
    /// `starting`, `running`, `retrying`, `parked` or `stopped`.
    public var state: String
    /// Events delivered by the running forwarder (a counter that restarts with it).
    public var deliveredTotal: Int64
    /// Every event up to this sequence is in the target.
    public var deliveredSequence: Int64
    /// Events stored and not yet in the target.
    public var lag: Int64
    public var retries: Int64
    /// Failures by kind.
    public var errors: [String: Int64]
    /// Events retention deleted before the sink delivered them.
    public var lostEvents: Int64

    public init(
        name: String, type: String, state: String, deliveredTotal: Int64, deliveredSequence: Int64, lag: Int64,
        retries: Int64, errors: [String: Int64], lostEvents: Int64
    ) {
        self.name = name
        self.type = type
        self.state = state
        self.deliveredTotal = deliveredTotal
        self.deliveredSequence = deliveredSequence
        self.lag = lag
        self.retries = retries
        self.errors = errors
        self.lostEvents = lostEvents
    }

    public static let states = ["starting", "running", "retrying", "parked", "stopped"]
}

/// One named consumer of a pipeline's store at scrape time.
public struct ConsumerSample: Sendable {
    public var name: String
    /// Events stored after its acknowledged position.
    public var lag: Int64
    /// Whether retention's hard cap deleted events it had not acknowledged.
    public var lost: Bool

    public init(name: String, lag: Int64, lost: Bool) {
        self.name = name
        self.lag = lag
        self.lost = lost
    }
}
