// What the oracle's writers did, transaction by transaction: the changes each
// one made in statement order, and whether it committed. A transaction whose
// COMMIT was interrupted (the server went away) is `unknown` until the side
// table `oracle_commits` settles it: every oracle transaction inserts its
// (writer, seq) there as its last statement, so the row exists exactly when
// the transaction committed.

import Foundation
import PostgresTestSupport

/// One row change as the oracle expects to see it in the stream.
public struct OracleChange: Hashable, Sendable, CustomStringConvertible {
    public let table: String
    public let op: String
    public let id: Int
    /// The row's `version` after the change (before it, for a delete).
    public let version: Int

    public init(table: String, op: String, id: Int, version: Int) {
        self.table = table
        self.op = op
        self.id = id
        self.version = version
    }

    public var description: String { "\(op) \(table) \(id) v\(version)" }
}

/// Identifies one oracle transaction: its writer and that writer's sequence number.
public struct OracleTransactionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let writer: Int
    public let seq: Int

    public init(writer: Int, seq: Int) {
        self.writer = writer
        self.seq = seq
    }

    public static func < (a: Self, b: Self) -> Bool { (a.writer, a.seq) < (b.writer, b.seq) }
    public var description: String { "w\(writer)#\(seq)" }
}

public struct OracleTransaction: Sendable {
    public enum Outcome: Sendable {
        case committed
        case rolledBack
        /// The connection failed during the transaction; `oracle_commits` decides.
        case unknown
    }

    public let id: OracleTransactionID
    /// Changes that survive the transaction's own savepoint rollbacks, in statement order.
    public var changes: [OracleChange]
    public var outcome: Outcome
}

/// Every writer's transactions, shared by the writer threads.
public final class OracleLedger: Sendable {
    private let entries = LockedValue<[OracleTransactionID: OracleTransaction]>([:])

    public init() {}

    func record(_ transaction: OracleTransaction) {
        entries.withLock { $0[transaction.id] = transaction }
    }

    public var transactions: [OracleTransactionID: OracleTransaction] { entries.withLock { $0 } }
}
