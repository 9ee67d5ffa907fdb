// GET /v1/pipelines/{id}/events (a page after a cursor, long-polling up to
// `wait` seconds when there is none yet) and /events/stream (Server-Sent
// Events, WHATWG HTML §9.2, resumable with `Last-Event-ID`). Both follow the
// store through a `StoreTail`, woken by the pipeline's commits: a waiting
// request holds no thread and reads nothing until an event is durable, and
// a long-poll ends when its client leaves.

import EventStore
import Foundation
import HTTPServer

struct EventRoutes: Sendable {
    /// Events read and written per SSE round; one write per round keeps syscalls few.
    static let streamBatch = 500
    /// Longest silence on an event stream before a keepalive comment.
    static let keepalive: Duration = .seconds(15)

    let context: APIContext

    func respond(_ route: APIRoute, _ request: HTTPRequest) async throws -> HTTPResponse {
        switch route {
        case .pipelineEventStream(let id): try await Respond.only("GET", request) { try await stream(id, request) }
        case .pipelineEvents(let id): try await Respond.only("GET", request) { try await page(id, request) }
        default: throw Problem.notFound("no route for \(request.path)")
        }
    }

    private func page(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        var errors: [(field: String, message: String)] = []
        let after = Int64(request.queryValue("after") ?? "0")
        let limit = Int(request.queryValue("limit") ?? "1000")
        let wait = Double(request.queryValue("wait") ?? "0")
        if after == nil || after! < 0 { errors.append(("after", "must be a sequence number (an integer >= 0)")) }
        if limit == nil || !(1...10_000).contains(limit!) { errors.append(("limit", "must be between 1 and 10000")) }
        if wait == nil || !(0...60).contains(wait!) { errors.append(("wait", "must be between 0 and 60 seconds")) }
        guard errors.isEmpty else { throw Problem.invalid(errors) }

        let tail = StoreTail(
            path: context.dataDirectory.eventStorePath(pipelineID: id), after: after!,
            commits: context.registry.commits(id), batch: limit!)
        defer { tail.close() }
        let connection = request.connection
        let events = try await tail.next(
            until: .now + .milliseconds(Int(wait! * 1000)), abandon: { await connection.closed() })
        return .json(Self.page(events, nextAfter: events.last?.sequence ?? after!))
    }

    private func stream(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        let cursor = try Self.streamCursor(request)
        let path = context.dataDirectory.eventStorePath(pipelineID: id)
        // Errors are answered before the stream starts (openapi.yaml): once the
        // 200 is out, a gap could only show as a silently skipped range.
        if let reader = try await EventStoreReader.openIfCreated(path: path),
           let oldest = try await reader.firstSequence(), cursor < oldest - 1 {
            throw Problem.expired(firstAvailableAfter: oldest - 1)
        }
        let (store, commits) = (context.store, context.registry.commits(id))
        return .eventStream(headers: ["Cache-Control": "no-store"]) { writer in
            // The tail is made here, not above: HEAD never runs this body.
            let tail = StoreTail(path: path, after: cursor, commits: commits, batch: Self.streamBatch)
            defer { tail.close() }
            try await writer.write("retry: 2000\n\n")
            var expected = cursor + 1
            while true {
                let events = try await tail.next(until: .now + Self.keepalive)
                if events.isEmpty {
                    // A deleted pipeline ends its streams.
                    guard !commits.isClosed, try await store.pipeline(id: id) != nil else { return }
                    try await writer.write(": keepalive\n\n")
                    continue
                }
                // Retention deleted events after the cursor while we streamed: end
                // the stream, so the client's reconnect is answered with 410.
                guard events[0].sequence == expected else { return }
                expected = events[events.count - 1].sequence + 1
                try await writer.write(Self.messages(events))
            }
        }
    }

    /// `{"events":[{"seq":…,"id":…,"event":<stored JSON>}…],"next_after":…}`. The
    /// stored event is spliced in as it is: parsing and re-printing it would
    /// round int8 values past 2^53 and reformat floats.
    static func page(_ events: [StoredEvent], nextAfter: Int64) -> [UInt8] {
        var out = Array(#"{"events":["#.utf8)
        for (index, event) in events.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"seq":\#(event.sequence),"id":"\#(event.id)","event":"#.utf8)
            out += event.body
            out.append(UInt8(ascii: "}"))
        }
        out += Array(#"],"next_after":\#(nextAfter)}"#.utf8)
        return out
    }

    /// The cursor: `Last-Event-ID` when present (what `EventSource` sends on
    /// reconnect), else `after`, else 0.
    static func streamCursor(_ request: HTTPRequest) throws -> Int64 {
        if let header = request.headers["last-event-id"], !header.isEmpty {
            guard header.count <= 19, header.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int64(header)
            else { throw Problem.invalid([("Last-Event-ID", "must be a sequence number (1 to 19 digits)")]) }
            return value
        }
        guard let text = request.queryValue("after") else { return 0 }
        guard let value = Int64(text), value >= 0 else {
            throw Problem.invalid([("after", "must be a sequence number (an integer >= 0)")])
        }
        return value
    }

    /// `id:`, `event: change` and the stored JSON as `data:`, byte for byte.
    /// Stored events are one line; should one ever hold a raw line break, it is
    /// split over several `data:` lines, which the client joins back with LF.
    static func messages(_ events: [StoredEvent]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events.reduce(0) { $0 + $1.body.count + 48 })
        for event in events {
            out += Array("id: \(event.sequence)\nevent: change\ndata: ".utf8)
            for byte in event.body {
                if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                    out += Array("\ndata: ".utf8)
                } else {
                    out.append(byte)
                }
            }
            out += Array("\n\n".utf8)
        }
        return out
    }
}
