// GET /v1/pipelines/{id}/events (a page after a cursor, long-polling up to
// `wait` seconds when there is none yet) and /events/stream (Server-Sent
// Events, WHATWG HTML §9.2, resumable with `Last-Event-ID`). Both follow the
// store through a `StoreTail`, woken by the pipeline's commits: a waiting
// request holds no thread and reads nothing until an event is durable, and
// a long-poll ends when its client leaves.

import Blocking
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
        var cursor = StoreCursor.start
        do {
            cursor = try StoreCursor.parse(after: request.queryValue("after"), store: request.queryValue("store"))
        } catch {
            errors.append((error.field, error.message))
        }
        let limit = Int(request.queryValue("limit") ?? "1000")
        let wait = Double(request.queryValue("wait") ?? "0")
        if limit == nil || !(1...10_000).contains(limit!) { errors.append(("limit", "must be between 1 and 10000")) }
        if wait == nil || !(0...60).contains(wait!) { errors.append(("wait", "must be between 0 and 60 seconds")) }
        guard errors.isEmpty else { throw Problem.invalid(errors) }

        let path = context.dataDirectory.eventStorePath(pipelineID: id)
        let range = try await Self.check(cursor, path: path)
        let tail = StoreTail(path: path, after: cursor.sequence, commits: context.registry.commits(id), batch: limit!)
        defer { tail.close() }
        let connection = request.connection
        let events = try await tail.next(
            until: .now + .milliseconds(Int(wait! * 1000)), abandon: { await connection.closed() })
        return .json(
            Self.page(
                events, nextAfter: events.last?.sequence ?? cursor.sequence, storeID: range?.storeID,
                lastSequence: max(range?.lastSequence ?? 0, events.last?.sequence ?? 0)))
    }

    /// Refuses a cursor the store cannot serve (another store's, beyond its end,
    /// older than what retention kept) before anything is read or streamed, and
    /// returns the store's range; nil while the pipeline has no store yet.
    static func check(_ cursor: StoreCursor, path: String) async throws -> StoreRange? {
        guard let reader = try await EventStoreReader.openIfCreated(path: path) else {
            if cursor.storeID != nil || cursor.sequence > 0 {
                throw Problem.cursorConflict(
                    "the pipeline has no events yet, so this cursor is not of its store; start again from after=0",
                    type: "urn:popsink:problem:cursor-beyond-end", lastSequence: 0, storeID: nil)
            }
            return nil
        }
        defer { reader.close() }
        let checked: Result<StoreRange, EventStoreError> = await Blocking.run {
            Result { () throws(EventStoreError) in try reader.check(cursor) }
        }
        switch checked {
        case .success(let range): return range
        case .failure(let error): throw Problem(cursorError: error)
        }
    }

    private func stream(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await context.pipeline(id)
        let start = try Self.streamCursor(request)
        let path = context.dataDirectory.eventStorePath(pipelineID: id)
        // Errors are answered before the stream starts (openapi.yaml): once the
        // 200 is out, a gap could only show as a silently skipped range.
        let storeID = try await Self.check(start, path: path)?.storeID
        let cursor = start.sequence
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
                try await writer.write(Self.messages(events, storeID: storeID))
            }
        }
    }

    /// `{"events":[{"seq":…,"id":…,"event":<stored JSON>}…],"next_after":…,"store":…,"last_seq":…}`.
    /// The stored event is spliced in as it is: parsing and re-printing it would
    /// round int8 values past 2^53 and reformat floats.
    static func page(_ events: [StoredEvent], nextAfter: Int64, storeID: StoreID?, lastSequence: Int64) -> [UInt8] {
        var out = Array(#"{"events":["#.utf8)
        for (index, event) in events.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"seq":\#(event.sequence),"id":"\#(event.id)","event":"#.utf8)
            out += event.body
            out.append(UInt8(ascii: "}"))
        }
        out += Array(#"],"next_after":\#(nextAfter),"store":"#.utf8)
        out += Array((storeID.map { "\"\($0)\"" } ?? "null").utf8)
        out += Array(#","last_seq":\#(lastSequence)}"#.utf8)
        return out
    }

    /// The cursor: `Last-Event-ID` when present (what `EventSource` sends on
    /// reconnect: `STORE:SEQ` as this service sends it, or a bare sequence),
    /// else `after` and `store`, else the start.
    static func streamCursor(_ request: HTTPRequest) throws -> StoreCursor {
        do {
            if let header = request.headers["last-event-id"], !header.isEmpty {
                return try StoreCursor.parse(lastEventID: header)
            }
            return try StoreCursor.parse(after: request.queryValue("after"), store: request.queryValue("store"))
        } catch {
            throw Problem.invalid([(error.field, error.message)])
        }
    }

    /// `id:` (`STORE:SEQ`, what `Last-Event-ID` brings back), `event: change` and
    /// the stored JSON as `data:`, byte for byte.
    /// Stored events are one line; should one ever hold a raw line break, it is
    /// split over several `data:` lines, which the client joins back with LF.
    static func messages(_ events: [StoredEvent], storeID: StoreID?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events.reduce(0) { $0 + $1.body.count + 80 })
        let prefix = storeID.map { "\($0):" } ?? ""
        for event in events {
            out += Array("id: \(prefix)\(event.sequence)\nevent: change\ndata: ".utf8)
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
