// Everything one pipeline needs to run: where to read, what to capture,
// where to store, and how eagerly to commit and report.

import EventStore
import Foundation
import PostgresReplication
import PostgresWire

/// The configuration of one pipeline.
public struct PipelineConfig: Sendable {
    /// Stable identifier; names the store file and the default slot.
    public var id: String
    public var source: ConnectionSettings
    public var publication: String
    public var slot: SlotName
    /// The pipeline's SQLite event store.
    public var storePath: String
    public var filter: TableFilter
    /// Stop once everything up to here is durable (like `pg_recvlogical --endpos`).
    public var endPosition: EndPosition?
    public var groupCommit: GroupCommitPolicy
    /// Longest silence before a standby status update (DESIGN §4 invariant 3).
    public var statusInterval: Duration
    public var retry: RetryPolicy
    /// `synchronous=FULL` (the default) fsyncs every group commit.
    public var durableFsync: Bool
    /// Whether and how the tables' existing rows are read (as `r` events) when the slot is created.
    public var snapshot: SnapshotOptions
    /// What the store keeps; applied by a `RetentionRunner` on the pipeline thread.
    public var retention: RetentionPolicy
    /// A bound below durability on the flush position told to Postgres, given
    /// the store's last sequence (nil: none): sinks that confirm on delivery
    /// keep what they have not delivered on the server.
    public var confirmLimit: (@Sendable (_ storeLast: Int64) -> LSN?)?
    /// The longest the pipeline waits on the source without hearing from it:
    /// an answer to a query on its SQL connection, or any message on the
    /// replication stream (a silent stream is first asked for a keepalive).
    /// Past it the connection is taken for dead and the pipeline reconnects.
    public var receiveTimeout: Duration = .seconds(Self.defaultReceiveTimeoutSeconds)
    public static let defaultReceiveTimeoutSeconds = 60
    /// What `receiveTimeout` may be, in seconds: under 2 s a loaded machine
    /// is taken for a dead one; a day is already longer than TCP gives up.
    public static let receiveTimeoutSeconds = 2...86_400
    /// The user's logical decoding messages passed on as `m` events (off by default).
    public var messages: MessageFilter = .off
    /// `.managed`: `publication` names a publication popsink creates and keeps
    /// holding exactly the tables `filter` selects (`ManagedPublication`).
    public var publicationMode: PublicationMode = .existing
    /// Columns left out of or hashed in every event; nil masks nothing.
    public var columnMask: ColumnMask?
    /// The connections this pipeline may open to its source, shared with the
    /// other pipelines of the same source; nil opens as many as it needs.
    public var connectionBudget: SourceConnectionBudget?

    public init(
        id: String, source: ConnectionSettings, publication: String = "popsink", slot: SlotName? = nil,
        storePath: String, filter: TableFilter = .all, endPosition: EndPosition? = nil,
        groupCommit: GroupCommitPolicy = .init(), statusInterval: Duration = .seconds(10),
        retry: RetryPolicy = .init(), durableFsync: Bool = true,
        snapshot: SnapshotOptions = .init(), retention: RetentionPolicy = .default
    ) throws(PipelineError) {
        guard let slotName = slot ?? Self.defaultSlot(pipelineID: id) else {
            throw PipelineError(
                .invalidConfiguration,
                "pipeline id '\(id)' does not make a valid slot name",
                remediation: "Use a pipeline id of lower-case letters, digits and underscores, or give --slot.")
        }
        self.id = id
        self.source = source
        self.publication = publication
        self.slot = slotName
        self.storePath = storePath
        self.filter = filter
        self.endPosition = endPosition
        self.groupCommit = groupCommit
        self.statusInterval = statusInterval
        self.retry = retry
        self.durableFsync = durableFsync
        self.snapshot = snapshot
        self.retention = retention
    }

    /// The name of a pipeline's managed publication: `popsink_<id>`, like its default slot.
    public static func defaultManagedPublication(pipelineID: String) -> String {
        defaultSlot(pipelineID: pipelineID)?.rawValue ?? "popsink_pipeline"
    }

    /// `popsink_<id>`, with characters a slot name cannot hold replaced by `_`.
    /// When that changed the id (upper case, other characters) or it had to be
    /// cut to Postgres's 63 bytes, a hash of the whole id follows, so ids that
    /// differ only there (`Orders` and `orders`, `a-b` and `a_b`) get slots of their own.
    public static func defaultSlot(pipelineID: String) -> SlotName? {
        let cleaned = String(
            pipelineID.lowercased().unicodeScalars.map { scalar in
                (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") ? Character(scalar) : "_"
            })
        let name = "popsink_\(cleaned)"
        guard cleaned != pipelineID || name.utf8.count > 63 else { return SlotName(rawValue: name) }
        // FNV-1a (32 bits): stable across processes, unlike Hasher.
        var hash: UInt32 = 0x811C_9DC5
        for byte in pipelineID.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        let suffix = "_" + String(hash, radix: 16)
        return SlotName(rawValue: String(name.prefix(63 - suffix.count)) + suffix)
    }
}

/// Whether a new pipeline snapshots its tables, and the snapshot's parallelism and chunk size.
public struct SnapshotOptions: Sendable, Equatable {
    /// Read the tables' existing rows when the slot is created; false streams only new changes.
    public var enabled: Bool
    /// Connections reading chunks at once.
    public var workers: Int
    /// Heap pages per chunk (8 KiB each by default: 4096 pages is 32 MiB of table).
    public var chunkPages: UInt32
    /// Rows stored per group commit (or fewer, once a second). Larger than the
    /// stream's groups: nobody waits on a loaded row, and every commit costs
    /// an fsync.
    public var rowsPerGroup: Int
    /// The read cap of backfills that have none of their own; nil reads as
    /// fast as the stream allows.
    public var backfillMaxRowsPerSecond: Int?

    public init(
        enabled: Bool = true, workers: Int = ProcessInfo.processInfo.activeProcessorCount, chunkPages: UInt32 = 4096,
        rowsPerGroup: Int = 100_000
    ) {
        self.enabled = enabled
        self.workers = max(1, workers)
        self.chunkPages = max(1, chunkPages)
        self.rowsPerGroup = max(1, rowsPerGroup)
    }
}

/// Where a bounded run stops.
public enum EndPosition: Sendable, Equatable {
    case lsn(LSN)
    /// The server's current WAL insert position when the pipeline starts.
    case current
}

/// When a group of transactions is committed to the store.
///
/// A group is committed at a transaction boundary as soon as the socket has
/// nothing more buffered (so an idle stream is durable at once and a busy one
/// batches by itself), or when it reaches `maxEvents` or `maxDelay`.
public struct GroupCommitPolicy: Sendable, Equatable {
    public var maxEvents: Int
    public var maxDelay: Duration

    public init(maxEvents: Int = 20_000, maxDelay: Duration = .milliseconds(50)) {
        self.maxEvents = maxEvents
        self.maxDelay = maxDelay
    }
}

/// Capped exponential backoff between reconnect attempts.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var maxDelay: Duration

    public init(initialDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(30)) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// The delay before attempt `attempt` (1-based) of a run of failures.
    public func delay(attempt: Int) -> Duration {
        var delay = initialDelay
        for _ in 1..<max(1, attempt) where delay < maxDelay { delay *= 2 }
        return min(delay, maxDelay)
    }
}
