// The transactions the stream committed most recently, for one question a
// backfill piece asks once its rows are read: did the stream already bring
// a transaction that the piece's snapshot does not see? Postgres writes a
// commit record before the transaction leaves the process array, so a
// transaction can be decoded and streamed (a commit waiting for a
// synchronous standby, a backend descheduled between the two steps) and
// yet be invisible to a snapshot taken afterwards. Its change is then older
// in the stream than the piece's low watermark but newer than the piece's
// rows, and the piece would undo it. Such a piece is read again.
//
// Bounded: the last `capacity` commits. A transaction streamed longer ago
// than that and still invisible is not caught; at 10,000 commits a second
// that is a commit waiting for its standby for more than 6 s.

struct RecentCommits {
    static let capacity = 65_536

    private var ring: [UInt32] = []
    private var next = 0
    private var members: [UInt32: Int] = [:]

    mutating func add(_ xid: UInt32) {
        if ring.count < Self.capacity {
            ring.append(xid)
        } else {
            let evicted = ring[next]
            if let count = members[evicted] { members[evicted] = count > 1 ? count - 1 : nil }
            ring[next] = xid
            next = (next + 1) % Self.capacity
        }
        members[xid, default: 0] += 1
    }

    /// Whether a transaction committed in the stream is one `snapshot` does not see.
    func containsUnseen(by snapshot: SnapshotVisibility) -> Bool {
        // Only one in progress at the snapshot can have committed before it in the
        // stream: one that began after it also committed after it.
        snapshot.inProgress.contains { members[$0] != nil }
    }
}
