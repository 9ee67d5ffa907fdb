// The event loop's mailbox: any thread posts, the loop takes everything at once
// when the eventfd wakes it. The eventfd is written only when the queue goes from
// empty to non-empty, so a burst of writes costs one wake-up.
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

    func post(_ message: LoopMessage) {
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            if state.messages.isEmpty { wakeup.signal() }
            state.messages.append(message)
            return true
        }
        if !accepted { message.abandon() }
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

    /// Refuses further posts (they are abandoned) and closes the eventfd; under the lock,
    /// so no post can signal a descriptor number that has been reused.
    func close() {
        let left = state.withLock { state in
            state.closed = true
            wakeup.close()
            defer { state.messages = [] }
            return state.messages
        }
        for message in left { message.abandon() }
    }
}
