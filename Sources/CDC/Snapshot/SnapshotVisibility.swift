// Which transactions a held snapshot sees, told by their xid: the rule of
// Postgres's `XidInMVCCSnapshot` applied to the text of `pg_current_snapshot()`
// (`xmin:xmax:xip,...`; see the "Snapshot Information Functions" table of the
// PostgreSQL manual). A reload of a table without a key uses it to tell a
// change that its snapshot already holds from one that came after it,
// whatever order the WAL put their commits in.
//
// The snapshot gives 64-bit xids (epoch included); pgoutput's Begin carries
// the 32-bit xid. They are compared modulo 2^32 as Postgres does
// (`TransactionIdPrecedes`): the xids of one stretch of the stream are never
// 2^31 apart.

struct SnapshotVisibility: Equatable, Sendable {
    let xmin: UInt32
    let xmax: UInt32
    let inProgress: Set<UInt32>

    init(xmin: UInt32, xmax: UInt32, inProgress: Set<UInt32>) {
        self.xmin = xmin
        self.xmax = xmax
        self.inProgress = inProgress
    }

    /// Parses `pg_current_snapshot()::text`, nil when it is not one.
    init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let xmin = UInt64(parts[0]), let xmax = UInt64(parts[1]) else { return nil }
        var inProgress: Set<UInt32> = []
        for xid in parts[2].split(separator: ",") {
            guard let value = UInt64(xid) else { return nil }
            inProgress.insert(UInt32(truncatingIfNeeded: value))
        }
        self.init(
            xmin: UInt32(truncatingIfNeeded: xmin), xmax: UInt32(truncatingIfNeeded: xmax), inProgress: inProgress)
    }

    /// Whether the snapshot holds the effects of committed transaction `xid`.
    func sees(committed xid: UInt32) -> Bool {
        if Self.precedes(xid, xmin) { return true }
        if !Self.precedes(xid, xmax) { return false }
        return !inProgress.contains(xid)
    }

    private static func precedes(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
}
