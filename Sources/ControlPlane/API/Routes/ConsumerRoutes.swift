// /v1/pipelines/{id}/consumers[/{name}]: named consumers of a pipeline's
// events. A consumer registers by acknowledging a position (PUT with
// `acked_seq`); retention then keeps every event after it (up to the hard
// cap, past which the consumer is marked as having lost events, never
// skipped silently). Positions live in the pipeline's store
// (`EventStoreConsumers`), so they hold whether or not the pipeline runs.

import Blocking
import EventStore
import HTTPServer

struct ConsumerRoutes: Sendable {
    let context: APIContext

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .pipelineConsumers(let id):
            return try await Respond.only("GET", request) { try await list(id) }
        case .pipelineConsumer(let id, let name):
            switch request.method {
            case "GET", "HEAD": return try await one(id, name)
            case "PUT": return try await acknowledge(id, name, request)
            case "DELETE": return try await remove(id, name)
            default: throw Respond.methodNotAllowed(["GET", "PUT", "DELETE"])
            }
        default:
            throw Problem.notFound("no route for \(request.path)")
        }
    }

    private func list(_ id: String) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        let (positions, last) = try await withConsumers(id) { (consumers) throws(EventStoreError) in
            (try consumers.list(), try consumers.lastSequence())
        }
        return Respond.json(JSON.object([("consumers", .array(positions.map { Self.consumer($0, last: last) }))]))
    }

    private func one(_ id: String, _ name: String) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        let (position, last) = try await withConsumers(id) { (consumers) throws(EventStoreError) in
            (try consumers.consumer(name), try consumers.lastSequence())
        }
        guard let position else { throw Problem.notFound("pipeline \(id) has no consumer named \(name)") }
        return Respond.json(Self.consumer(position, last: last))
    }

    private func acknowledge(_ id: String, _ name: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        var input = try JSONInput(request, allowed: ["acked_seq"])
        let acked = input.integer("acked_seq")
        if acked == nil || acked! < 0 { input.fail("acked_seq", "must be a sequence number (an integer >= 0)") }
        if !ConsumerPosition.isValidName(name) {
            input.fail("name", "must be 1 to 128 letters, digits, '_', '-' or '.'")
        }
        try input.validate()
        guard let acked else { throw Problem.invalid([("acked_seq", "is required")]) }
        let existed =
            try await withConsumers(id) { (consumers) throws(EventStoreError) in try consumers.consumer(name) } != nil
        let (position, last) = try await withConsumers(id) { (consumers) throws(EventStoreError) in
            (try consumers.acknowledge(name, through: Int64(acked)), try consumers.lastSequence())
        }
        return Respond.json(Self.consumer(position, last: last), status: existed ? 200 : 201)
    }

    private func remove(_ id: String, _ name: String) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        guard try await withConsumers(id, { (consumers) throws(EventStoreError) in try consumers.remove(name) }) else {
            throw Problem.notFound("pipeline \(id) has no consumer named \(name)")
        }
        return .status(204)
    }

    /// Runs `body` on the pipeline's consumer positions, off the cooperative
    /// pool; a cursor the store refuses becomes its 409/410 problem.
    private func withConsumers<T: Sendable>(
        _ id: String, _ body: @escaping @Sendable (EventStoreConsumers) throws(EventStoreError) -> T
    ) async throws -> T {
        let path = context.dataDirectory.eventStorePath(pipelineID: id)
        let result: Result<T, EventStoreError> = await Blocking.run {
            Result { () throws(EventStoreError) in
                let consumers = try EventStoreConsumers(path: path)
                defer { consumers.close() }
                return try body(consumers)
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error) where error.kind == .invalidArgument:
            throw Problem.invalid([("acked_seq", error.message)])
        case .failure(let error): throw Problem(cursorError: error)
        }
    }

    /// `{"name","acked_seq","lag","lost_events","lost_through","updated_at"}`.
    static func consumer(_ position: ConsumerPosition, last: Int64) -> JSON {
        .object([
            ("name", .string(position.name)), ("acked_seq", .integer(position.ackedSequence)),
            ("lag", .integer(position.lag(lastSequence: last))), ("lost_events", .bool(position.hasLostEvents)),
            ("lost_through", position.lostThrough.map { .integer($0) } ?? .null),
            ("updated_at", .string(Timestamps.iso8601(unixMicroseconds: position.updatedAtMicros))),
        ])
    }
}
