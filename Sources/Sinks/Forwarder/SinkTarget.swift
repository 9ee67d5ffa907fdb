// The narrow interface a forwarder drives: one per kind of target. A target
// lives on its forwarder's thread only; its calls block.

import EventStore

/// A connection to where a sink delivers.
public protocol SinkTarget: AnyObject {
    /// Connects, and creates or checks the destination (a stream, topics).
    func open() throws(SinkError)

    /// The sequence up to which the target holds every event, found by
    /// reading the target back where it can be: `saved` is the forwarder's
    /// own durable position, a floor for targets that cannot be read back.
    /// Called after each `open`, before the first `deliver`.
    func resume(saved: SinkPosition, store: EventStoreReader) throws(SinkError) -> Int64

    /// Sends `events` (consecutive, in store order) and returns once the
    /// target has acknowledged every one; throws when any was not.
    func deliver(_ events: [SinkEvent]) throws(SinkError)

    /// Drops the connection. `abrupt` skips any flush or goodbye (a crash, in tests).
    func close(abrupt: Bool)
}
