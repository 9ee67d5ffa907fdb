// The one follower of a store: from a cursor, each `next` returns the events
// after those it returned before, and when there are none yet waits for the
// writer's next commit (`DurableSequence`). The SSE route, the long-poll of
// the events route and `run --output` all read through it. Reads run on
// `Blocking` threads; waiting runs on none.

/// Follows one store. Used by one task at a time.
public final class StoreTail {
    /// The last sequence returned (or the starting cursor).
    public private(set) var cursor: Int64
    private let path: String
    private let commits: DurableSequence
    private let batch: Int
    private var reader: EventStoreReader?

    /// - Parameters:
    ///   - commits: the store's commits as its writer reports them.
    ///   - batch: the most events one `next` returns.
    public init(path: String, after cursor: Int64, commits: DurableSequence, batch: Int) {
        self.path = path
        self.cursor = cursor
        self.commits = commits
        self.batch = batch
    }

    /// The next events in order; none once `deadline` has passed with nothing
    /// new, when `abandon` returns first (the client left), or at once when
    /// there is nothing new and `commits` is closed. Throws
    /// `CancellationError` when the task is cancelled (the server is shutting down).
    public func next(
        until deadline: ContinuousClock.Instant? = nil, abandon: (@Sendable () async -> Void)? = nil
    ) async throws -> [StoredEvent] {
        while true {
            try Task.checkCancellation()
            // Read before the store: a commit landing between the read and the
            // wait then ends the wait at once instead of being missed.
            let seen = commits.current
            let closed = commits.isClosed
            if reader == nil { reader = try await EventStoreReader.openIfCreated(path: path) }
            if let reader {
                let events = try await reader.events(after: cursor, limit: batch)
                if let last = events.last {
                    cursor = last.sequence
                    return events
                }
            }
            if closed { return [] }
            if let deadline, ContinuousClock.now >= deadline { return [] }
            if await commits.wait(beyond: seen, until: deadline, abandon: abandon) == .abandoned { return [] }
        }
    }

    /// Closes the reader; `next` opens a new one if called again.
    public func close() {
        reader?.close()
        reader = nil
    }
}
