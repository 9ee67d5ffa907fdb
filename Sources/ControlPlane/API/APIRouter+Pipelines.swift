// /v1/pipelines: create (POST, or PUT with a client-chosen id, idempotent),
// read, filters, delete.

import CDC
import EventStore
import Foundation
import HTTPServer
import PostgresReplication

extension APIRouter {
    private static let pipelineFields: Set<String> = [
        "id", "source_id", "publication", "slot_name", "filters", "initial_load", "snapshot", "desired_state",
    ]

    /// POST (id nil: from the body or generated) or PUT (id from the path).
    func putPipeline(_ pathID: String?, _ request: HTTPRequest) async throws -> HTTPResponse {
        var input = try JSONInput(request, allowed: Self.pipelineFields)
        let bodyID = input.string("id")
        if let pathID, let bodyID, bodyID != pathID { input.fail("id", "must equal the id in the path") }
        let id = pathID ?? bodyID ?? "pl_" + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))
        if !ControlPlaneIDs.isValid(id) { input.fail("id", "must be 1 to 64 of A-Z a-z 0-9 _ -") }
        let sourceID = input.string("source_id", required: true)
        let slot = input.string("slot_name")
        if let slot, SlotName(rawValue: slot) == nil { input.fail("slot_name", "must match ^[a-z0-9_]{1,63}$") }
        let desired = input.string("desired_state")
        if let desired, PipelineRecord.DesiredState(rawValue: desired) == nil {
            input.fail("desired_state", "must be running or stopped")
        }
        let spec = PipelineSpec(
            sourceID: sourceID ?? "", publication: input.string("publication"), slotName: slot,
            filters: input.filters("filters"), snapshotEnabled: input.bool("initial_load"),
            snapshot: input.snapshotSettings("snapshot"), desiredState: desired.flatMap(PipelineRecord.DesiredState.init))
        if let sourceID, try await store.source(id: sourceID) == nil { input.fail("source_id", "names no source") }
        try input.validate()

        let (record, created) = try await registry.put(id, spec, create: pathID == nil)
        return json(Representation.pipeline(record, state: registry.status(id).state), status: created ? 201 : 200)
    }

    func putFilters(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        var input = try JSONInput(request, allowed: JSONInput.filterFields)
        let filters = input.tableFilter(in: input.object)
        try input.validate()
        let record = try await registry.setFilters(id, filters)
        return json(Representation.pipeline(record, state: registry.status(id).state))
    }

    func deletePipeline(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        try await registry.delete(id, dropSlot: request.queryValue("drop_slot") == "true")
        return .status(204)
    }
}
