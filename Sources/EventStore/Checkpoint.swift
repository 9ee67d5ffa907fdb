// The replication position a store has made durable: where a pipeline resumes
// and what it may confirm to Postgres (DESIGN §4, invariants 1, 2 and 4).

import PostgresWire

/// What the store has made durable: the replication position to resume from.
public struct Checkpoint: Sendable, Hashable, CustomStringConvertible {
    /// Commit LSN of the last transaction whose events are stored. Transactions
    /// whose commit LSN is at or below this are replays and are skipped
    /// (DESIGN §4 invariant 2).
    public var lastCommitLSN: LSN
    /// The position confirmed to Postgres as flushed: the end LSN of the last
    /// stored transaction, or further when the stream was idle (invariant 4).
    /// Never behind `lastCommitLSN`.
    public var flushLSN: LSN

    public init(lastCommitLSN: LSN, flushLSN: LSN) {
        self.lastCommitLSN = lastCommitLSN
        self.flushLSN = flushLSN
    }

    public var description: String { "commit \(lastCommitLSN), flush \(flushLSN)" }

    /// Why `self` may not replace `previous`, or nil when it may: the flush
    /// position is never behind the last commit, and neither moves backwards
    /// (a checkpoint that went back would make Postgres resend, and the store
    /// keep, transactions it already has).
    func violation(replacing previous: Checkpoint?) -> String? {
        if flushLSN < lastCommitLSN {
            return "flush LSN \(flushLSN) is behind last commit LSN \(lastCommitLSN)"
        }
        guard let previous else { return nil }
        if lastCommitLSN < previous.lastCommitLSN {
            return "last commit LSN would move back from \(previous.lastCommitLSN) to \(lastCommitLSN)"
        }
        if flushLSN < previous.flushLSN {
            return "flush LSN would move back from \(previous.flushLSN) to \(flushLSN)"
        }
        return nil
    }
}
