// A per-source budget of Postgres connections, shared by every pipeline of
// this process that reads the same database (same host, port and database).
// Without it each pipeline opens its replication and catalog connections,
// one load connection and up to `snapshot.workers` parallel load workers,
// and several pipelines on one server with a low `max_connections` or a
// role's `CONNECTION LIMIT` fail each other at random. With it:
//
// - a running session reserves `sessionConnections` (replication, catalog,
//   and the one connection of the load planner or watermark piece reader);
//   when even those do not fit, the session fails with an error naming the
//   budget and who holds it (retried: it starts once another pipeline stops);
// - the initial load's parallel workers take what is left, so a crowded
//   source loads with fewer workers instead of failing.

import Synchronization

public final class SourceConnectionBudget: Sendable {
    /// Held by a running session: replication, catalog, and one load connection.
    public static let sessionConnections = 3
    /// The budget of a source that does not set `max_connections`.
    public static let defaultLimit = 10

    /// `host:port/database`, for messages.
    public let source: String
    private let ledger: Mutex<ConnectionBudgetLedger>

    public init(source: String, limit: Int) {
        self.source = source
        ledger = Mutex(ConnectionBudgetLedger(limit: limit))
    }

    public var limit: Int { ledger.withLock { $0.limit } }
    public var inUse: Int { ledger.withLock { $0.inUse } }

    public func setLimit(_ limit: Int) { ledger.withLock { $0.setLimit(limit) } }

    /// Connections held for `holder` until `release()`.
    public struct Lease: Sendable {
        public let count: Int
        let holder: String
        let budget: SourceConnectionBudget?

        public func release() { budget?.give(count, from: holder) }

        /// A lease of an unbudgeted pipeline: any number, held by nobody.
        static func unbudgeted(_ count: Int) -> Lease { Lease(count: count, holder: "", budget: nil) }
    }

    /// Exactly `count` connections, or a retryable error naming the budget.
    public func reserve(_ count: Int, for holder: String, purpose: String) throws(PipelineError) -> Lease {
        let result = ledger.withLock { ledger -> (Bool, ConnectionBudgetLedger) in
            (ledger.take(count, for: holder), ledger)
        }
        guard result.0 else { throw exhausted(result.1, needed: count, holder: holder, purpose: purpose) }
        return Lease(count: count, holder: holder, budget: self)
    }

    /// Up to `count` connections, as many as are free (maybe none).
    public func reserveUpTo(_ count: Int, for holder: String) -> Lease {
        let granted = ledger.withLock { $0.takeUpTo(count, for: holder) }
        return Lease(count: granted, holder: holder, budget: self)
    }

    func give(_ count: Int, from holder: String) {
        guard count > 0 else { return }
        ledger.withLock { $0.give(count, from: holder) }
    }

    func exhausted(_ ledger: ConnectionBudgetLedger, needed: Int, holder: String, purpose: String) -> PipelineError {
        let holders = ledger.held.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }
        return PipelineError(
            .connectionLimit,
            "the connection budget of source \(source) is used up: max_connections \(ledger.limit), "
                + "\(ledger.inUse) held by \(holders.isEmpty ? "nobody" : holders.joined(separator: ", ")); "
                + "pipeline \(holder) needs \(needed) for \(purpose)",
            retryable: true,
            remediation:
                "Raise the source's max_connections (keeping it within the server's max_connections and the role's "
                + "CONNECTION LIMIT), or stop another pipeline of this source; the pipeline starts by itself once "
                + "connections are free.")
    }
}

/// The budgets of this process, one per `host:port/database`.
public final class SourceConnectionBudgets: Sendable {
    public static let shared = SourceConnectionBudgets()
    private let budgets = Mutex<[String: SourceConnectionBudget]>([:])

    public init() {}

    /// The budget of `source`; a pipeline that comes with another limit
    /// sets it (the latest configuration wins).
    public func budget(source: String, limit: Int) -> SourceConnectionBudget {
        budgets.withLock { budgets in
            if let budget = budgets[source] {
                budget.setLimit(limit)
                return budget
            }
            let budget = SourceConnectionBudget(source: source, limit: limit)
            budgets[source] = budget
            return budget
        }
    }
}
