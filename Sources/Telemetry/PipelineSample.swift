// What the control plane hands to `/metrics` for one pipeline: a fresh status
// snapshot plus the facts that live outside the pipeline's own status (the
// store's size on disk, the slot's row in `pg_replication_slots`).

import CDC

/// One pipeline's inputs for a `/metrics` scrape.
public struct PipelineSample: Sendable {
    /// The pipeline id, used as the `pipeline` label.
    public var id: String
    public var status: PipelineStatus
    /// Bytes the pipeline's event store occupies on disk; nil when unknown.
    public var storeBytes: Int64?
    /// The replication slot as last read from the server; nil when not read.
    public var slot: SlotSample?

    public init(id: String, status: PipelineStatus, storeBytes: Int64? = nil, slot: SlotSample? = nil) {
        self.id = id
        self.status = status
        self.storeBytes = storeBytes
        self.slot = slot
    }
}

/// The WAL retention of a replication slot, from `pg_replication_slots`
/// (`wal_status`, and `pg_current_wal_lsn() - restart_lsn` for the bytes).
public struct SlotSample: Sendable, Equatable {
    /// `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+).
    public var walStatus: String
    /// WAL the server keeps for this slot, in bytes.
    public var retainedBytes: Int64

    public init(walStatus: String, retainedBytes: Int64) {
        self.walStatus = walStatus
        self.retainedBytes = retainedBytes
    }
}
