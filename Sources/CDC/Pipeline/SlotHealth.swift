// The slot's WAL retention as Postgres reports it, read while streaming.

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
