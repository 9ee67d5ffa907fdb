// GET /v1/pipelines/{id}/events/stream: the stored events as Server-Sent
// Events (WHATWG HTML §9.2, "Server-sent events"), resumable with
// `Last-Event-ID`. Each stream follows the store from a thread of its own
// (`EventTail`): SQLite reads block, so they never run on the cooperative pool.

import Dispatch
import EventStore
import Foundation
import HTTPServer
import Synchronization

extension APIRouter {
    /// Events read and written per round; one write per round keeps syscalls few.
    static let streamBatch = 500

    func eventStream(_ id: String, _ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await pipeline(id)
        let cursor = try Self.streamCursor(request)
        let path = dataDirectory.eventStorePath(pipelineID: id)
        // Errors are answered before the stream starts (openapi.yaml): once the
        // 200 is out, a gap could only show as a silently skipped range.
        if let oldest = try await Self.oldestSequence(path: path), cursor < oldest - 1 {
            return Self.expired(firstAvailableAfter: oldest - 1, instance: request.decodedPath ?? request.path)
        }
        return .eventStream(headers: ["Cache-Control": "no-store"]) { [store] writer in
            // The tail is made here, not above: HEAD never runs this body.
            let tail = EventTail(path: path, after: cursor, batch: Self.streamBatch)
            defer { tail.close() }
            try await writer.write("retry: 2000\n\n")
            var expected = cursor + 1
            while true {
                let events = try await tail.next()
                if events.isEmpty {
                    // 15 s without events. A deleted pipeline ends its streams here.
                    guard try await store.pipeline(id: id) != nil else { return }
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

    private static func expired(firstAvailableAfter: Int64, instance: String) -> HTTPResponse {
        let problem: JSON = [
            "type": "urn:popsink:problem:events-expired", "title": "Events expired", "status": 410,
            "detail": "events after this cursor were deleted by retention; resume from \(firstAvailableAfter) and re-sync what was missed",
            "instance": instance, "first_available_after": firstAvailableAfter,
        ]
        return .json(problem.bytes, status: 410, contentType: "application/problem+json")
    }

    /// The oldest stored sequence, nil when there is no store or no event yet.
    private static func oldestSequence(path: String) async throws -> Int64? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                do throws(EventStoreError) {
                    guard let reader = try EventStoreReader.openIfCreated(path: path) else {
                        return continuation.resume(returning: nil)
                    }
                    defer { reader.close() }
                    continuation.resume(returning: try reader.firstSequence())
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }
}

/// Follows one pipeline's event store for one stream, on a thread it owns.
///
/// `next()` asks for the events after the last batch; the thread polls the
/// store every `pollInterval` until there are some or `idleTimeout` has passed
/// (then it answers with none, time for a keepalive). The thread reads only
/// while a `next()` waits, so a slow client holds the store back, not memory.
final class EventTail: Sendable {
    private struct State {
        var waiter: CheckedContinuation<[StoredEvent], any Error>?
        var deadline = DispatchTime.now()
        var started = false
        var closed = false
    }

    private let path: String
    private let start: Int64
    private let batch: Int
    private let pollInterval: DispatchTimeInterval
    private let idleTimeout: DispatchTimeInterval
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    init(
        path: String, after sequence: Int64, batch: Int,
        pollInterval: DispatchTimeInterval = .milliseconds(100), idleTimeout: DispatchTimeInterval = .seconds(15)
    ) {
        self.path = path
        self.start = sequence
        self.batch = batch
        self.pollInterval = pollInterval
        self.idleTimeout = idleTimeout
    }

    /// The next events in order, or none after `idleTimeout` without any.
    /// Throws `CancellationError` once closed or when the task is cancelled
    /// (the client left, or the server is shutting down).
    func next() async throws -> [StoredEvent] {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[StoredEvent], any Error>) in
                let (accepted, startThread) = state.withLock { state -> (Bool, Bool) in
                    guard !state.closed else { return (false, false) }
                    state.waiter = continuation
                    state.deadline = .now() + idleTimeout
                    defer { state.started = true }
                    return (true, !state.started)
                }
                guard accepted else { return continuation.resume(throwing: CancellationError()) }
                if startThread {
                    let thread = Thread { [self] in run() }
                    thread.name = "popsink-sse"
                    thread.start()
                } else {
                    wake.signal()
                }
            }
        } onCancel: {
            close()
        }
    }

    /// Ends the thread and fails a waiting `next()`. Idempotent.
    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: CancellationError())
        wake.signal()
    }

    private func run() {
        var cursor = start
        var reader: EventStoreReader?
        defer { reader?.close() }
        while let deadline = awaitRequest() {
            while true {
                let result: Result<[StoredEvent], EventStoreError>
                do throws(EventStoreError) {
                    if reader == nil { reader = try EventStoreReader.openIfCreated(path: path) }
                    result = .success(try reader?.events(after: cursor, limit: batch) ?? [])
                } catch {
                    result = .failure(error)
                }
                if case .success(let events) = result, events.isEmpty, DispatchTime.now() < deadline {
                    _ = wake.wait(timeout: min(deadline, .now() + pollInterval))
                    if state.withLock({ $0.closed }) { return }
                    continue
                }
                if case .success(let events) = result, let last = events.last { cursor = last.sequence }
                deliver(result)
                if case .failure = result { return }
                break
            }
        }
    }

    /// Blocks until a `next()` waits; its deadline, or nil once closed.
    private func awaitRequest() -> DispatchTime? {
        while true {
            let request = state.withLock { state -> (closed: Bool, deadline: DispatchTime?) in
                (state.closed, state.waiter == nil ? nil : state.deadline)
            }
            if request.closed { return nil }
            if let deadline = request.deadline { return deadline }
            wake.wait()
        }
    }

    private func deliver(_ result: Result<[StoredEvent], EventStoreError>) {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result.mapError { $0 as any Error })
    }

}
