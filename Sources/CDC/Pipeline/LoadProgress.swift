// How far the initial load has got, table by table: what the status API,
// the metrics and `run`'s progress bar show while a pipeline snapshots.

/// The initial load's progress on one table.
public struct TableLoadProgress: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Not started yet.
        case pending
        case loading
        case done
    }

    public let schema: String
    public let table: String
    public var state: State
    /// Rows stored so far (durably).
    public var rowsDone: Int64
    /// Postgres's estimate (`pg_class.reltuples`); 0 when the table was never analyzed.
    public var estimatedRows: Int64
    public var chunksDone: Int
    public var chunksTotal: Int

    public init(
        schema: String, table: String, state: State = .pending, rowsDone: Int64 = 0, estimatedRows: Int64 = 0,
        chunksDone: Int = 0, chunksTotal: Int = 0
    ) {
        self.schema = schema
        self.table = table
        self.state = state
        self.rowsDone = rowsDone
        self.estimatedRows = estimatedRows
        self.chunksDone = chunksDone
        self.chunksTotal = chunksTotal
    }
}

/// Stored events counted by operation.
public struct OperationCounts: Sendable, Equatable {
    public var inserts: Int64 = 0
    public var updates: Int64 = 0
    public var deletes: Int64 = 0
    public var truncates: Int64 = 0
    /// Rows of the initial load (`r`).
    public var reads: Int64 = 0

    public init() {}

    /// Each count with the `op` code of the event format.
    public var byCode: [(op: String, count: Int64)] {
        [("c", inserts), ("u", updates), ("d", deletes), ("t", truncates), ("r", reads)]
    }

    static func += (lhs: inout OperationCounts, rhs: OperationCounts) {
        lhs.inserts += rhs.inserts
        lhs.updates += rhs.updates
        lhs.deletes += rhs.deletes
        lhs.truncates += rhs.truncates
        lhs.reads += rhs.reads
    }

    mutating func count(_ operation: EventEncoder.Operation) {
        switch operation {
        case .insert: inserts += 1
        case .update: updates += 1
        case .delete: deletes += 1
        case .truncate: truncates += 1
        case .read: reads += 1
        }
    }
}

/// What Postgres says about the pipeline's slot (`pg_replication_slots`).
public struct SlotHealth: Sendable, Equatable {
    /// `reserved`, `extended`, `unreserved` or `lost`.
    public var walStatus: String
    /// WAL the slot keeps on the server's disk: current WAL position minus the slot's restart_lsn.
    public var retainedBytes: UInt64
    /// Bytes that can still be written before the slot is in danger of
    /// losing WAL (`safe_wal_size`); nil when max_slot_wal_keep_size is unlimited.
    public var safeWALBytes: Int64?

    public init(walStatus: String, retainedBytes: UInt64, safeWALBytes: Int64?) {
        self.walStatus = walStatus
        self.retainedBytes = retainedBytes
        self.safeWALBytes = safeWALBytes
    }
}
