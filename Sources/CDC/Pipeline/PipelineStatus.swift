// What a running pipeline reports about itself. The worker thread publishes
// it through `PipelineProgress`; readers (CLI, API, metrics) take snapshots.

import PostgresReplication
import PostgresWire
import Synchronization

/// Lifecycle states of a pipeline.
public enum PipelineState: String, Sendable, Codable {
    case created, starting, snapshotting, streaming, retrying, stopping, stopped, finished, failed
}

/// A snapshot of a pipeline's progress.
public struct PipelineStatus: Sendable, Equatable {
    public var state: PipelineState = .created
    /// The furthest WAL position received from the server.
    public var receivedLSN: LSN = .zero
    /// The store's checkpoint: everything before it is durable here.
    public var flushedLSN: LSN = .zero
    /// The flush position last sent to Postgres (zero before the first
    /// status update of this run): the checkpoint, capped by sinks with
    /// `confirm: delivered` while they are behind.
    public var confirmedLSN: LSN = .zero
    /// What Postgres holds as flushed, as the API's `flushed_lsn` and the
    /// metrics show it: `confirmedLSN`, or the checkpoint before this run's
    /// first status update.
    public var reportedFlushLSN: LSN { confirmedLSN.isZero ? flushedLSN : confirmedLSN }
    /// The server's end of WAL as of its last message.
    public var serverWALEnd: LSN = .zero
    public var eventsStored: Int64 = 0
    public var transactionsStored: Int64 = 0
    /// Commit time of the last stored transaction.
    public var lastCommitTime: PostgresTimestamp?
    public var lastError: PipelineError?
    /// Reconnect attempts since the last successful start.
    public var retryAttempt: Int = 0
    /// Replication sessions that reached streaming in this run: more than one
    /// means the pipeline reconnected.
    public var sessionsStarted: Int = 0
    /// From each transaction's commit on the server to its events being durable.
    public var commitToDurable = LatencyHistogram()
    /// Durably stored events by operation.
    public var eventsByOperation = OperationCounts()
    /// The snapshot, one entry per selected table; empty when there is none.
    public var snapshot: [TableSnapshotProgress] = []
    /// On-demand backfills, in the order they were asked for.
    public var backfills: [Backfill] = []
    /// The slot as Postgres last reported it (read about once a second while streaming).
    public var slot: SlotHealth?
    /// The replication connection's transport security, once connected.
    public var tls: ConnectionSecurity?

    public init() {}

    /// WAL the server has that is not yet durable here, in bytes.
    public var lagBytes: UInt64 { serverWALEnd.bytes(after: flushedLSN) }

    /// How far behind the stored stream is in time: zero when caught up,
    /// else the age of the last stored transaction's commit.
    public func lagSeconds(nowMicroseconds: Int64) -> Double {
        guard lagBytes > 0, let lastCommitTime else { return 0 }
        return max(0, Double(nowMicroseconds - lastCommitTime.unixMicroseconds) / 1_000_000)
    }
}

/// Shared, lock-protected status: written by the worker, read by anyone.
public final class PipelineProgress: Sendable {
    private let current = Mutex(PipelineStatus())

    public init() {}

    public var status: PipelineStatus { current.withLock { $0 } }

    func update(_ body: (inout PipelineStatus) -> Void) {
        current.withLock { body(&$0) }
    }
}
