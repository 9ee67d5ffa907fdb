// A pipeline as the control plane stores it: which source, what to capture,
// whether and how its snapshot reads, and whether it should be running (restarted on
// its own after a restart of the service).

import CDC
import Sinks

/// The stored definition of one pipeline.
public struct PipelineRecord: Codable, Sendable, Equatable {
    public enum DesiredState: String, Codable, Sendable {
        case running, stopped
    }

    public var id: String
    public var sourceID: String
    public var publication: String
    public var slotName: String
    public var filters: TableFilter
    public var snapshot: SnapshotSettings
    /// Where the events go beyond the store, each with its own position.
    public var sinks: [SinkConfig]
    public var retention: RetentionSettings
    /// The user's logical messages passed on as `m` events.
    public var messages: MessageFilter = .off
    /// Seconds the pipeline waits on a silent source before reconnecting
    /// (`PipelineConfig.receiveTimeout`); nil for the default.
    public var receiveTimeout: Int?
    public var desiredState: DesiredState
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, sourceID: String, publication: String = "popsink", slotName: String? = nil,
        filters: TableFilter = .all, snapshot: SnapshotSettings = SnapshotSettings(), sinks: [SinkConfig] = [],
        retention: RetentionSettings = .default, receiveTimeout: Int? = nil, desiredState: DesiredState = .stopped,
        createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.sourceID = sourceID
        self.publication = publication
        self.slotName = slotName ?? PipelineConfig.defaultSlot(pipelineID: id)?.rawValue ?? "popsink"
        self.filters = filters
        self.snapshot = snapshot
        self.sinks = sinks
        self.retention = retention
        self.receiveTimeout = receiveTimeout
        self.desiredState = desiredState
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension PipelineRecord {
    private enum CodingKeys: String, CodingKey {
        case id, sourceID, publication, slotName, filters, snapshot, sinks, retention, receiveTimeout, desiredState,
            createdAt, updatedAt, messages
        /// Where records before `snapshot.enabled` kept it.
        case initialLoad
    }

    /// Decodes records of every version: those saved before `snapshot`
    /// existed have none and get the defaults; those saved before
    /// `snapshot.enabled` kept it as `initialLoad`; those before sinks and
    /// retention have no sinks and the default retention; those before
    /// `messages` pass no message.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        sourceID = try container.decode(String.self, forKey: .sourceID)
        publication = try container.decode(String.self, forKey: .publication)
        slotName = try container.decode(String.self, forKey: .slotName)
        filters = try container.decode(TableFilter.self, forKey: .filters)
        snapshot = try container.decodeIfPresent(SnapshotSettings.self, forKey: .snapshot) ?? SnapshotSettings()
        if let initialLoad = try container.decodeIfPresent(Bool.self, forKey: .initialLoad) {
            snapshot.enabled = initialLoad
        }
        sinks = try container.decodeIfPresent([SinkConfig].self, forKey: .sinks) ?? []
        retention = try container.decodeIfPresent(RetentionSettings.self, forKey: .retention) ?? .default
        messages = try container.decodeIfPresent(MessageFilter.self, forKey: .messages) ?? .off
        receiveTimeout = try container.decodeIfPresent(Int.self, forKey: .receiveTimeout)
        desiredState = try container.decode(DesiredState.self, forKey: .desiredState)
        createdAt = try container.decode(String.self, forKey: .createdAt)
        updatedAt = try container.decode(String.self, forKey: .updatedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(sourceID, forKey: .sourceID)
        try container.encode(publication, forKey: .publication)
        try container.encode(slotName, forKey: .slotName)
        try container.encode(filters, forKey: .filters)
        try container.encode(snapshot, forKey: .snapshot)
        try container.encode(sinks, forKey: .sinks)
        try container.encode(retention, forKey: .retention)
        try container.encode(messages, forKey: .messages)
        try container.encodeIfPresent(receiveTimeout, forKey: .receiveTimeout)
        try container.encode(desiredState, forKey: .desiredState)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}
