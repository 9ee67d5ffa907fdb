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
        let publication = input.string("publication")
        let slot = input.string("slot_name")
        if let slot, SlotName(rawValue: slot) == nil { input.fail("slot_name", "must match ^[a-z0-9_]{1,63}$") }
        let filters = input.filters("filters")
        let initialLoad = input.bool("initial_load")
        let snapshot = input.snapshotSettings("snapshot")
        let desired = input.string("desired_state")
        if let desired, PipelineRecord.DesiredState(rawValue: desired) == nil {
            input.fail("desired_state", "must be running or stopped")
        }
        if let sourceID, try await store.source(id: sourceID) == nil { input.fail("source_id", "names no source") }
        try input.validate()

        let existing = try await store.pipeline(id: id)
        if existing != nil && pathID == nil {
            throw Problem.conflict("pipeline \(id) already exists; PUT /v1/pipelines/\(id) updates it",
                                   type: "urn:popsink:problem:already-exists")
        }
        let now = Timestamps.now()
        var record = existing ?? PipelineRecord(id: id, sourceID: sourceID!, createdAt: now, updatedAt: now)
        let before = record
        record.sourceID = sourceID!
        record.publication = publication ?? "popsink"
        record.slotName = slot ?? PipelineConfig.defaultSlot(pipelineID: id)?.rawValue ?? record.slotName
        record.filters = filters.map {
            TableFilter(includeSchemas: $0.includeSchemas, excludeSchemas: $0.excludeSchemas,
                        includeTables: $0.includeTables, excludeTables: $0.excludeTables)
        } ?? .all
        record.initialLoad = initialLoad ?? true
        // Saved even while the pipeline runs, and used from its next start:
        // restarting a load to apply them would turn it into a slower
        // resume while streaming (`WatermarkSnapshot`).
        record.snapshot = snapshot ?? SnapshotSettings()
        if let desired { record.desiredState = PipelineRecord.DesiredState(rawValue: desired)! }

        let state = registry.status(id).state
        let active = ![.created, .stopped, .finished, .failed].contains(state)
        if let existing, active, existing.sourceID != record.sourceID || existing.publication != record.publication
            || existing.slotName != record.slotName || existing.initialLoad != record.initialLoad {
            throw Problem.conflict("stop pipeline \(id) before changing its source, publication, slot or snapshot",
                                   type: "urn:popsink:problem:pipeline-running")
        }
        if record != before || existing == nil {
            record.updatedAt = now
            try await store.save(record)
        }
        if existing != nil, active, record.filters != before.filters { try await registry.restart(id) }
        if record.desiredState == .running, !active { try await registry.start(id) }
        if record.desiredState == .stopped, active { try await registry.stop(id) }
        let response = Representation.pipeline(record, state: registry.status(id).state)
        return json(response, status: existing == nil ? 201 : 200)
    }

    func putFilters(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        var record = try await pipeline(id)
        var input = try JSONInput(request, allowed: ["include_schemas", "exclude_schemas", "include_tables", "exclude_tables"])
        let includeSchemas = input.stringList("include_schemas", in: rawField(request, "include_schemas")) ?? []
        let excludeSchemas = input.stringList("exclude_schemas", in: rawField(request, "exclude_schemas")) ?? []
        let includeTables = input.stringList("include_tables", in: rawField(request, "include_tables")) ?? []
        let excludeTables = input.stringList("exclude_tables", in: rawField(request, "exclude_tables")) ?? []
        try input.validate()
        record.filters = TableFilter(
            includeSchemas: includeSchemas, excludeSchemas: excludeSchemas,
            includeTables: includeTables, excludeTables: excludeTables)
        record.updatedAt = Timestamps.now()
        try await store.save(record)
        let state = registry.status(id).state
        if ![.created, .stopped, .finished, .failed].contains(state) { try await registry.restart(id) }
        return json(Representation.pipeline(record, state: registry.status(id).state))
    }

    func deletePipeline(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        let record = try await pipeline(id)
        try await registry.stop(id)
        if request.queryValue("drop_slot") == "true" {
            let source = try await source(record.sourceID)
            try await Self.dropSlot(record.slotName, source: source)
        }
        _ = try await store.deletePipeline(id: id)
        try? FileManager.default.removeItem(atPath: dataDirectory.pipelineDirectory(id))
        return .status(204)
    }

    private func rawField(_ request: HTTPRequest, _ field: String) -> Any? {
        (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?[field]
    }

    /// Drops the slot on a thread of its own: libpq blocks.
    private static func dropSlot(_ slot: String, source: SourceRecord) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                do {
                    let connection = try PostgresConnection(settings: source.connectionSettings, mode: .sql)
                    try connection.query(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", [slot])
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: Problem(
                        status: 503, title: "Service Unavailable", detail: "could not drop slot \(slot): \(error)",
                        type: "urn:popsink:problem:source-unavailable"))
                }
            }
            thread.start()
        }
    }
}
