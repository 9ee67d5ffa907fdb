// Commit-to-durable latency: from a transaction's commit on the server (its
// Commit message's timestamp) to the moment the group commit holding its
// events returned. Cumulative buckets in the Prometheus style, so the status
// API and /metrics can show the same numbers.

/// A fixed-bucket latency histogram in milliseconds.
public struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds of the buckets, in milliseconds; a last bucket takes the rest.
    public static let bucketBounds: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000]

    /// Observations per bucket (not cumulative); one more than `bucketBounds`.
    public private(set) var counts = [UInt64](repeating: 0, count: bucketBounds.count + 1)
    public private(set) var count: UInt64 = 0
    public private(set) var sumMilliseconds: Double = 0
    public private(set) var maxMilliseconds: Double = 0

    public init() {}

    public mutating func observe(milliseconds: Double) {
        let value = max(0, milliseconds)
        let bucket = Self.bucketBounds.firstIndex { value <= $0 } ?? Self.bucketBounds.count
        counts[bucket] += 1
        count += 1
        sumMilliseconds += value
        maxMilliseconds = max(maxMilliseconds, value)
    }

    /// The upper bound of the bucket holding quantile `q` (0…1): an estimate
    /// that errs high; the maximum for the overflow bucket. Nil when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = UInt64((q * Double(count)).rounded(.up))
        var seen: UInt64 = 0
        for (index, bucketCount) in counts.enumerated() {
            seen += bucketCount
            if seen >= max(rank, 1) {
                return index < Self.bucketBounds.count
                    ? min(Self.bucketBounds[index], maxMilliseconds) : maxMilliseconds
            }
        }
        return maxMilliseconds
    }
}
