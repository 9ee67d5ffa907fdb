// Lets a handler learn that its client went away before the response was
// written. The loop does not cancel a handler then (its side effects must not
// depend on whether the client waited); a handler that only waits for the
// client's sake (a long-poll) races its wait against `closed()` and ends.

import Synchronization

/// Reports the end of the connection a request came on.
public final class ConnectionWatch: Sendable {
    private struct State {
        var closed = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// A watch that reports a close only when `close` is called (the server
    /// makes one per request; a request built elsewhere never closes).
    public init() {}

    /// Whether the client has gone (reset, or closed its side of the connection).
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Returns once the client has gone, or when the task is cancelled.
    public func closed() async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if state.closed || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Called by the event loop when the connection ends or its client shuts its side.
    func close() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.closed else { return [] }
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }
}
