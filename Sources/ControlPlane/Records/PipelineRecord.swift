// A pipeline as the control plane stores it: which source, what to capture,
// and whether it should be running (restarted on its own after a restart of
// the service).

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
    public var desiredState: DesiredState
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, sourceID: String, publication: String = "popsink", slotName: String? = nil,
        filters: TableFilter = .all, initialLoad: Bool = true, desiredState: DesiredState = .stopped,
        createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.sourceID = sourceID
        self.publication = publication
        self.slotName = slotName ?? PipelineConfig.defaultSlot(pipelineID: id)?.rawValue ?? "popsink"
        self.filters = filters
        self.initialLoad = initialLoad
        self.desiredState = desiredState
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
