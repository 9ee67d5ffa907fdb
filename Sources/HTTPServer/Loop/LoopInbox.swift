// The event loop's mailbox: any thread posts, the loop takes everything at once
// when the eventfd wakes it. The eventfd is written only when the queue goes from
// empty to non-empty, so a burst of writes costs one wake-up, and outside the
// lock: a write(2) under it made every other poster and the loop spin in the
// mutex's slow path (perf under bench/api: 12% of the server's CPU).
import Synchronization

final class LoopInbox: Sendable {
    private struct State {
        var messages: [LoopMessage] = []
        var closed = false
    }

    private let state = Mutex(State())
    let wakeup: EventFD

    init() throws(HTTPServerError) {
        wakeup = try EventFD()
    }

    deinit {
        // Only here: a post that was accepted may still be about to signal.
        wakeup.close()
    }

    func post(_ message: LoopMessage) {
        let (accepted, wake) = state.withLock { state in
            guard !state.closed else { return (false, false) }
            state.messages.append(message)
            return (true, state.messages.count == 1)
        }
        guard accepted else { return message.abandon() }
        // A take() between the append and this signal leaves only a spurious wake-up.
        if wake { wakeup.signal() }
    }

    /// Everything posted so far. Reset the eventfd before taking the queue, so a post
    /// that lands in between still leaves the eventfd readable.
    func take() -> [LoopMessage] {
        wakeup.drain()
        return state.withLock { state in
            defer { state.messages = [] }
            return state.messages
        }
    }

    /// Refuses further posts (they are abandoned). The eventfd stays open until
    /// deinit, so a post accepted just before never signals a reused descriptor number.
    func close() {
        let left = state.withLock { state in
            state.closed = true
            defer { state.messages = [] }
            return state.messages
        }
        for message in left { message.abandon() }
    }
}
