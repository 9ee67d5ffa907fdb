// One page of events as consumers get it: the events, the store they come
// from and the exact cursor to continue from. Pages are capped by bytes as
// well as by count, so a run of large rows cannot make one request (or one
// SSE batch, or one round of the output file) hold gigabytes.

/// Events after a cursor, with what is needed to ask for the next ones.
public struct EventPage: Sendable {
    public let events: [StoredEvent]
    /// The store the events come from; nil only for a store an older version
    /// created that no writer of this version has opened yet.
    public let storeID: StoreID?
    /// The sequence to continue after: the last event's, or the request's when
    /// the page is empty. Exact whatever cap ended the page.
    public let nextAfter: Int64
    /// The store's last sequence when the page was read.
    public let lastSequence: Int64

    /// `nextAfter` with the store id, to send back as `after=…&store=…` or `Last-Event-ID`.
    public var nextCursor: StoreCursor { StoreCursor(storeID: storeID, sequence: nextAfter) }
}

/// Default caps of a page.
public enum PageLimits {
    /// Bytes of event bodies per page, SSE batch or output round: 4 MiB. A
    /// page holds at least one event whatever its size, so a consumer always
    /// makes progress; beyond that, an event that would pass the budget starts
    /// the next page.
    public static let defaultMaxBytes = 4 << 20
}
