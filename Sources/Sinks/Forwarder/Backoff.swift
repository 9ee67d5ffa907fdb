// How long a sink waits before reconnecting after a failure: exponential with
// full jitter (each wait uniform in [0, min(cap, base·2^attempt)]), so sinks
// that failed together do not come back together.

/// Retry delays of one sink.
public struct Backoff: Sendable {
    public var base: Double
    public var cap: Double
    public private(set) var attempt = 0

    public init(base: Double = 0.1, cap: Double = 30) {
        self.base = base
        self.cap = cap
    }

    /// The next delay in seconds.
    public mutating func next<G: RandomNumberGenerator>(using generator: inout G) -> Double {
        let ceiling = min(cap, base * Double(1 << min(attempt, 30)))
        attempt += 1
        return Double.random(in: 0...ceiling, using: &generator)
    }

    public mutating func next() -> Double {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    /// After a success: the next failure starts from `base` again.
    public mutating func reset() { attempt = 0 }
}
