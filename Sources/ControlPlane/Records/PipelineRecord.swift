// A pipeline as the control plane stores it: which source, what to capture,
// how its snapshot reads, and whether it should be running (restarted on
// its own after a restart of the service).

import CDC

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
    public var initialLoad: Bool
    public var snapshot: SnapshotSettings
    public var desiredState: DesiredState
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, sourceID: String, publication: String = "popsink", slotName: String? = nil,
        filters: TableFilter = .all, initialLoad: Bool = true, snapshot: SnapshotSettings = SnapshotSettings(),
        desiredState: DesiredState = .stopped, createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.sourceID = sourceID
        self.publication = publication
        self.slotName = slotName ?? PipelineConfig.defaultSlot(pipelineID: id)?.rawValue ?? "popsink"
        self.filters = filters
        self.initialLoad = initialLoad
        self.snapshot = snapshot
        self.desiredState = desiredState
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension PipelineRecord {
    /// Decodes records of every version: those saved before `snapshot`
    /// existed have none and get the defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        sourceID = try container.decode(String.self, forKey: .sourceID)
        publication = try container.decode(String.self, forKey: .publication)
        slotName = try container.decode(String.self, forKey: .slotName)
        filters = try container.decode(TableFilter.self, forKey: .filters)
        initialLoad = try container.decode(Bool.self, forKey: .initialLoad)
        snapshot = try container.decodeIfPresent(SnapshotSettings.self, forKey: .snapshot) ?? SnapshotSettings()
        desiredState = try container.decode(DesiredState.self, forKey: .desiredState)
        createdAt = try container.decode(String.self, forKey: .createdAt)
        updatedAt = try container.decode(String.self, forKey: .updatedAt)
    }
}
