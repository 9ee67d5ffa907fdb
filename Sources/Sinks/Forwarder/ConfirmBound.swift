// `confirm: delivered`: how far a pipeline may confirm to Postgres while a
// sink is behind. Postgres sends again every transaction whose commit LSN is
// at or above the confirmed flush position (the walsender skips only those
// that commit before it), and the store holds transactions in commit order.
// So confirming the commit LSN of the first event the sink has not delivered
// keeps every transaction the sink lacks on the server, and resends at most
// the one that sink is in the middle of. Pure, so it is tested alone.

import EventStore
import PostgresWire

/// The bound one sink puts on the flush position.
public struct ConfirmBound: Sendable {
    /// Every event up to this sequence is in the target.
    public var delivered: Int64
    /// The id of the event at `delivered` (nil when unknown: none delivered, or skipped past lost events).
    public var deliveredID: EventID?
    /// The first event after `delivered`, when the sink has read it.
    public var next: (sequence: Int64, commitLSN: LSN)?

    public init(delivered: Int64, deliveredID: EventID?, next: (sequence: Int64, commitLSN: LSN)? = nil) {
        self.delivered = delivered
        self.deliveredID = deliveredID
        self.next = next
    }

    /// The highest flush position that keeps what the sink lacks on the
    /// server, when the store's last event is `storeLast`; nil when the sink
    /// holds everything stored (no bound). `LSN.zero` holds the position
    /// where it is: Postgres ignores a flush position below the one it has.
    public func limit(storeLast: Int64) -> LSN? {
        if delivered >= storeLast { return nil }
        if let next, next.sequence == delivered + 1 { return next.commitLSN }
        // The next event is not read yet: the last delivered one's
        // transaction may be partly delivered, so it is sent again.
        return deliveredID?.commitLSN ?? .zero
    }

}
