// Failed bearer-token attempts, counted per client address, so the token
// cannot be guessed at the speed of the network. Each address may fail
// `burst` times; the count then drains by one every `refillInterval`. While
// the count is full every request from the address gets 429 with
// Retry-After, a correct token too: answering it differently would tell the
// guesser when it found the token. A success forgives the address.
//
// A pure value: the router holds it under a lock and passes the time in.

/// Counts failed authentications per client address.
struct AuthFailureLimiter: Sendable {
    struct Policy: Sendable {
        /// Failures an address may make before it must wait.
        var burst = 10
        /// One failure is forgotten per interval: the sustained rate allowed.
        var refillInterval = Duration.seconds(6)
        /// Addresses tracked at once; past it the one closest to forgiven is dropped.
        var maxClients = 10_000
    }

    private struct Debt {
        var failures: Double
        var at: ContinuousClock.Instant
    }

    let policy: Policy
    private var debts: [String: Debt] = [:]

    init(policy: Policy = Policy()) { self.policy = policy }

    var trackedClients: Int { debts.count }

    /// How long `client` must wait before its token is checked again; nil when it may try now.
    func retryAfter(client: String, now: ContinuousClock.Instant) -> Duration? {
        guard let debt = debts[client] else { return nil }
        let failures = drained(debt, now: now)
        let excess = failures - Double(policy.burst - 1)
        guard excess > 0 else { return nil }
        return policy.refillInterval * excess
    }

    mutating func failed(client: String, now: ContinuousClock.Instant) {
        let failures = debts[client].map { drained($0, now: now) } ?? 0
        debts[client] = Debt(failures: failures + 1, at: now)
        if debts.count > policy.maxClients { evict(now: now) }
    }

    mutating func succeeded(client: String) { debts[client] = nil }

    private func drained(_ debt: Debt, now: ContinuousClock.Instant) -> Double {
        max(0, debt.failures - (now - debt.at) / policy.refillInterval)
    }

    /// Forgets every address whose count has drained, then, if still over, the lowest.
    private mutating func evict(now: ContinuousClock.Instant) {
        debts = debts.filter { drained($0.value, now: now) > 0 }
        while debts.count > policy.maxClients,
            let lowest = debts.min(by: { drained($0.value, now: now) < drained($1.value, now: now) })
        {
            debts[lowest.key] = nil
        }
    }

    /// The address part of `address:port` or `[v6]:port`: one limit per machine, not per connection.
    static func client(ofRemoteAddress remote: String) -> String {
        if remote.hasPrefix("["), let close = remote.firstIndex(of: "]") {
            return String(remote[remote.index(after: remote.startIndex)..<close])
        }
        guard let colon = remote.lastIndex(of: ":") else { return remote }
        return String(remote[..<colon])
    }
}
