// One line per sink for `run --verbose` and the benchmarks.

extension SinkStatus {
    /// `sink js (jetstream): running; delivered 1000 (to 1000), backlog 0; batch delivery p50 ≤ 0.01 s, p99 ≤ 0.05 s; errors connection=1`
    public var summary: String {
        var text =
            "sink \(name) (\(type)): \(state.rawValue); delivered \(deliveredTotal) (to sequence \(deliveredSequence)), backlog \(backlogEvents)"
        if let p50 = deliverySeconds.quantileBound(0.5), let p99 = deliverySeconds.quantileBound(0.99) {
            text += "; batch delivery p50 ≤ \(p50) s, p99 ≤ \(p99) s over \(deliverySeconds.count) batches"
        }
        if lostEvents > 0 { text += "; LOST \(lostEvents) events to retention" }
        if !errors.isEmpty {
            text +=
                "; errors "
                + errors.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(
                    separator: " ")
        }
        if let lastError, state != .running { text += "; last error: \(lastError)" }
        return text
    }
}

extension DeliveryHistogram {
    /// The bucket bound at or below which the `q` quantile lies (+Inf as nil past the last bound).
    public func quantileBound(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Int64((q * Double(count)).rounded(.up))
        var seen: Int64 = 0
        for (index, bound) in Self.bounds.enumerated() {
            seen += counts[index]
            if seen >= rank { return bound }
        }
        return nil
    }
}
