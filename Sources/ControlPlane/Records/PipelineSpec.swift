// What a client asks a pipeline to be (the body of PUT/POST /v1/pipelines):
// each field given or left to its default. The registry turns it into the
// stored record against the previous one, inside the pipeline's queue.

import CDC
import Sinks

/// The settable fields of a pipeline; nil means the default.
public struct PipelineSpec: Sendable, Equatable {
    public var sourceID: String
    public var publication: String?
    public var slotName: String?
    public var filters: TableFilter?
    /// Whether a new slot starts with a snapshot, and how it reads.
    public var snapshot: SnapshotSettings?
    public var sinks: [SinkConfig]?
    public var retention: RetentionSettings?
    /// The user's logical messages passed on as `m` events; nil passes none.
    public var messages: MessageFilter?
    /// Seconds, within `PipelineConfig.receiveTimeoutSeconds`; nil for the default.
    public var receiveTimeout: Int?
    /// nil keeps the stored desired state (`stopped` for a new pipeline).
    public var desiredState: PipelineRecord.DesiredState?

    public init(
        sourceID: String, publication: String? = nil, slotName: String? = nil, filters: TableFilter? = nil,
        snapshot: SnapshotSettings? = nil, sinks: [SinkConfig]? = nil, retention: RetentionSettings? = nil,
        receiveTimeout: Int? = nil, desiredState: PipelineRecord.DesiredState? = nil
    ) {
        self.sourceID = sourceID
        self.publication = publication
        self.slotName = slotName
        self.filters = filters
        self.snapshot = snapshot
        self.sinks = sinks
        self.retention = retention
        self.receiveTimeout = receiveTimeout
        self.desiredState = desiredState
    }

    /// The record to store: `previous` with every field replaced (a PUT
    /// replaces the resource), keeping its creation time and, when not given,
    /// its desired state.
    public func record(id: String, previous: PipelineRecord?, now: String) -> PipelineRecord {
        var record = previous ?? PipelineRecord(id: id, sourceID: sourceID, createdAt: now, updatedAt: now)
        record.sourceID = sourceID
        record.publication = publication ?? "popsink"
        record.slotName = slotName ?? PipelineConfig.defaultSlot(pipelineID: id)?.rawValue ?? record.slotName
        record.filters = filters ?? .all
        record.snapshot = snapshot ?? SnapshotSettings()
        record.sinks = sinks ?? []
        record.retention = retention ?? .default
        record.messages = messages ?? .off
        record.receiveTimeout = receiveTimeout
        if let desiredState { record.desiredState = desiredState }
        return record
    }
}
