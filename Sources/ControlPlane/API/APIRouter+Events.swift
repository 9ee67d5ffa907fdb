// GET /v1/pipelines/{id}/events: events after a cursor, long-polling up to
// `wait` seconds when there are none yet. Reads go through the store's own
// read connection on a dedicated thread, never the cooperative pool.

import EventStore
import Foundation
import HTTPServer

extension APIRouter {
    func events(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await pipeline(id)
        var errors: [(field: String, message: String)] = []
        let after = Int64(request.queryValue("after") ?? "0")
        let limit = Int(request.queryValue("limit") ?? "1000")
        let wait = Double(request.queryValue("wait") ?? "0")
        if after == nil || after! < 0 { errors.append(("after", "must be a sequence number (an integer >= 0)")) }
        if limit == nil || !(1...10_000).contains(limit!) { errors.append(("limit", "must be between 1 and 10000")) }
        if wait == nil || !(0...60).contains(wait!) { errors.append(("wait", "must be between 0 and 60 seconds")) }
        guard errors.isEmpty else { throw Problem.invalid(errors) }

        let path = dataDirectory.eventStorePath(pipelineID: id)
        let deadline = ContinuousClock.now + .milliseconds(Int(wait! * 1000))
        var page: [StoredEvent] = []
        while true {
            page = try await Self.read(path: path, after: after!, limit: limit!)
            if !page.isEmpty || ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return .json(Self.page(page, nextAfter: page.last?.sequence ?? after!))
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

    private static func read(path: String, after: Int64, limit: Int) async throws -> [StoredEvent] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                do throws(EventStoreError) {
                    guard let reader = try EventStoreReader.openIfCreated(path: path) else {
                        return continuation.resume(returning: [])
                    }
                    defer { reader.close() }
                    continuation.resume(returning: try reader.events(after: after, limit: limit))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }
}

extension EventStoreReader {
    /// A reader, or nil while the pipeline has not created its store yet: no
    /// file, or a file whose schema the writer has not committed yet (it is
    /// empty, or locked, for that moment).
    static func openIfCreated(path: String) throws(EventStoreError) -> EventStoreReader? {
        do throws(EventStoreError) {
            return try EventStoreReader(path: path)
        } catch where error.kind == .notFound || error.kind == .notAnEventStore || error.kind == .busy {
            return nil
        }
    }
}
