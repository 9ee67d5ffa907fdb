// What the control plane hands to `/metrics` for one pipeline: a fresh status
// snapshot (which carries the slot's health and the snapshot's progress)
// plus what lives outside the pipeline's own status, the store's size on disk.

import CDC

/// One pipeline's inputs for a `/metrics` scrape.
public struct PipelineSample: Sendable {
    /// The pipeline id, used as the `pipeline` label.
    public var id: String
    public var status: PipelineStatus
    /// Bytes the pipeline's event store occupies on disk; nil when unknown.
    public var storeBytes: Int64?
    public var sinks: [SinkSample]
    public var consumers: [ConsumerSample]

    public init(
        id: String, status: PipelineStatus, storeBytes: Int64? = nil, sinks: [SinkSample] = [],
        consumers: [ConsumerSample] = []
    ) {
        self.id = id
        self.status = status
        self.storeBytes = storeBytes
        self.sinks = sinks
        self.consumers = consumers
    }
}
