// A target that takes the next batch while the previous one is being
// acknowledged, so a round trip to the target no longer separates two
// batches. The forwarder still moves its position only over batches the
// target has acknowledged whole, oldest first.

/// A `SinkTarget` whose sends and acknowledgements are separate calls.
public protocol PipelinedSinkTarget: SinkTarget {
    /// Publishes `events` (consecutive, following what was sent before
    /// since the last `resume`) without waiting for acknowledgements.
    func send(_ events: [SinkEvent]) throws(SinkError)

    /// Returns once the target holds every event sent up to `sequence` (the
    /// last of a batch given to `send`); throws when any was refused or the
    /// acknowledgements did not come in time.
    func waitAcknowledged(through sequence: Int64) throws(SinkError)
}
