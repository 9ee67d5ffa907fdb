// The arithmetic of a source's connection budget, without locks or I/O:
// which pipeline holds how many of the connections popsink-pg may open to
// one Postgres database, and whether a new request fits. `SourceConnectionBudget`
// wraps it for threads to share.

/// Connections held against one budget, by pipeline.
struct ConnectionBudgetLedger: Equatable {
    private(set) var limit: Int
    private(set) var held: [String: Int] = [:]

    init(limit: Int) { self.limit = max(1, limit) }

    var inUse: Int { held.values.reduce(0, +) }
    var free: Int { max(0, limit - inUse) }

    /// Takes exactly `count` for `holder`, or nothing when they do not fit.
    mutating func take(_ count: Int, for holder: String) -> Bool {
        guard count <= free else { return false }
        held[holder, default: 0] += count
        return true
    }

    /// Takes as many as fit, up to `count`; returns how many were taken (maybe 0).
    mutating func takeUpTo(_ count: Int, for holder: String) -> Int {
        let granted = min(max(0, count), free)
        if granted > 0 { held[holder, default: 0] += granted }
        return granted
    }

    mutating func give(_ count: Int, from holder: String) {
        let left = (held[holder] ?? 0) - count
        held[holder] = left > 0 ? left : nil
    }

    /// A lower limit takes nothing back: holders keep what they have and
    /// new requests wait until the total is under it.
    mutating func setLimit(_ limit: Int) { self.limit = max(1, limit) }
}
