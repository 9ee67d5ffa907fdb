// /v1/pipelines: create (POST, or PUT with a client-chosen id, idempotent),
// read, replace, delete; start, stop and restart; status; filters. Each
// route parses, makes one call to the registry, which decides what the
// request means for the pipeline's worker, and renders.

import CDC
import Foundation
import HTTPServer
import PostgresReplication

struct PipelineRoutes: Sendable {
    static let fields: Set<String> = [
        "id", "source_id", "publication", "slot_name", "filters", "snapshot", "sinks", "retention", "receive_timeout",
        "desired_state", "messages", "columns",
    ]

    let context: APIContext
    private var registry: PipelineRegistry { context.registry }

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .pipelines:
            switch request.method {
            case "GET":
                return Respond.json(
                    try await context.store.pipelines().map {
                        Representation.pipeline($0, state: registry.status($0.id).state)
                    })
            case "POST": return try await put(nil, request)
            default: throw Respond.methodNotAllowed(["GET", "POST"])
            }
        case .pipeline(let id):
            switch request.method {
            case "GET":
                let record = try await context.pipeline(id)
                return Respond.json(Representation.pipeline(record, state: registry.status(id).state))
            case "PUT": return try await put(id, request)
            case "DELETE":
                try await registry.delete(id, dropSlot: request.queryValue("drop_slot") == "true")
                return .status(204)
            default: throw Respond.methodNotAllowed(["GET", "PUT", "DELETE"])
            }
        case .pipelineCommand(let id, let command):
            return try await Respond.only("POST", request) {
                let status =
                    switch command {
                    case .start: try await registry.start(id)
                    case .stop: try await registry.stop(id)
                    case .restart: try await registry.restart(id)
                    }
                return Respond.json(
                    Representation.status(
                        status, record: try await context.pipeline(id), sinks: registry.sinkStatuses(id)))
            }
        case .pipelineStatus(let id):
            return try await Respond.only("GET", request) {
                let record = try await context.pipeline(id)
                let followers = await StoreFollowers.read(
                    storePath: context.dataDirectory.eventStorePath(pipelineID: id), sinks: record.sinks)
                return Respond.json(
                    Representation.status(
                        registry.status(id), record: record, sinks: registry.sinkStatuses(id), followers: followers))
            }
        default:
            guard case .pipelineFilters(let id) = route else { throw Problem.notFound("no route for \(request.path)") }
            return try await Respond.only("PUT", request) {
                var input = try JSONInput(request, allowed: JSONInput.filterFields)
                let filters = input.tableFilter(in: input.object)
                let pipeline = try await context.pipeline(id)
                input.rowFiltersNeedManagedPublication(filters, mode: pipeline.publicationMode, field: "row_filters")
                try input.validate()
                do {
                    let refused = try await RowFilterAcceptance.problems(filters, config: registry.config(id))
                    if !refused.isEmpty { throw Problem.invalid(refused) }
                } catch let error as PostgresError {
                    throw Problem.sourceUnavailable(error)
                }
                let previous = pipeline.filters
                let record = try await registry.setFilters(id, filters)
                let change = filters == previous ? nil : await CaptureChangeWait.first(registry, id)
                return Respond.json(
                    Representation.pipeline(record, state: registry.status(id).state)
                        .adding("capture_change", change.map(CaptureChangeWait.json) ?? .null))
            }
        }
    }

    /// POST (id nil: from the body or generated) or PUT (id from the path).
    private func put(_ pathID: String?, _ request: HTTPRequest) async throws -> HTTPResponse {
        var input = try JSONInput(request, allowed: Self.fields)
        let bodyID = input.string("id")
        if let pathID, let bodyID, bodyID != pathID { input.fail("id", "must equal the id in the path") }
        let id =
            pathID ?? bodyID ?? "pl_"
            + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))
        if !ControlPlaneIDs.isValid(id) { input.fail("id", "must be 1 to 64 of A-Z a-z 0-9 _ -") }
        let sourceID = input.string("source_id", required: true)
        let slot = input.string("slot_name")
        if let slot, SlotName(rawValue: slot) == nil { input.fail("slot_name", "must match ^[a-z0-9_]{1,63}$") }
        let desired = input.string("desired_state")
        if let desired, PipelineRecord.DesiredState(rawValue: desired) == nil {
            input.fail("desired_state", "must be running or stopped")
        }
        let receiveTimeout = input.integer("receive_timeout")
        if let receiveTimeout, !PipelineConfig.receiveTimeoutSeconds.contains(receiveTimeout) {
            let bounds = PipelineConfig.receiveTimeoutSeconds
            input.fail("receive_timeout", "must be between \(bounds.lowerBound) and \(bounds.upperBound) seconds")
        }
        // Secrets are write-only: a sink sent back without them keeps the stored ones.
        let previous = try await context.store.pipeline(id: id)
        let stored = previous?.sinks ?? []
        let publication = input.publication("publication")
        var spec = PipelineSpec(
            sourceID: sourceID ?? "", publication: publication?.name, slotName: slot,
            filters: input.filters("filters"),
            snapshot: input.snapshotSettings("snapshot"),
            sinks: input.sinks("sinks", previous: stored), retention: input.retention("retention"),
            receiveTimeout: receiveTimeout, desiredState: desired.flatMap(PipelineRecord.DesiredState.init))
        spec.messages = input.messages("messages")
        spec.publicationMode = publication?.mode
        input.rowFiltersNeedManagedPublication(
            spec.filters ?? .all, mode: spec.publicationMode ?? .existing, field: "filters.row_filters")
        spec.columns = input.columnMask("columns", previousKey: previous?.columns?.hashKey)
        if let sourceID, try await context.store.source(id: sourceID) == nil {
            input.fail("source_id", "names no source")
        }
        try input.validate()

        let (record, created) = try await registry.put(id, spec, create: pathID == nil)
        return Respond.json(
            Representation.pipeline(record, state: registry.status(id).state), status: created ? 201 : 200)
    }
}
