// The writer's commits as something to wait on. The pipeline reports each
// group commit's last sequence (`Pipeline`'s onDurable); followers of the
// store (SSE, long-polls, `run --output`) suspend here until the next one
// instead of polling the store, so a waiting follower costs no thread and no
// reads, and sees an event as soon as it is durable.

import Synchronization

/// The highest durable sequence of one store, and the tasks waiting for it to move.
public final class DurableSequence: Sendable {
    private struct State {
        var sequence: Int64 = 0
        var closed = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The highest sequence reported so far (0 before the first commit in this process).
    public var current: Int64 { state.withLock { $0.sequence } }

    /// Whether `close` was called: no commit will come any more.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Reports a commit (a sequence lower than the current one is ignored) and
    /// wakes every waiter. Called on the writer's thread; never blocks.
    public func advance(to sequence: Int64) {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard sequence > state.sequence else { return [] }
            state.sequence = sequence
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }

    /// No commit will come (the pipeline was deleted, or `run` ended): wakes
    /// every waiter, and later waits return at once.
    public func close() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Why a wait ended.
    public enum Wake: Sendable, Equatable {
        /// A commit above the sequence waited for, or the sequence was closed.
        case committed
        case deadline
        /// `abandon` returned: whoever waited is gone.
        case abandoned
    }

    /// Suspends until a commit above `sequence` is reported (or the sequence is
    /// closed), `deadline` passes, `abandon` returns or the task is cancelled,
    /// whichever comes first.
    public func wait(
        beyond sequence: Int64, until deadline: ContinuousClock.Instant?,
        abandon: (@Sendable () async -> Void)? = nil
    ) async -> Wake {
        if deadline == nil && abandon == nil {
            await wait(beyond: sequence)
            return .committed
        }
        return await withTaskGroup(of: Wake.self) { group in
            group.addTask {
                await self.wait(beyond: sequence)
                return .committed
            }
            if let deadline {
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    return .deadline
                }
            }
            if let abandon {
                group.addTask {
                    await abandon()
                    return .abandoned
                }
            }
            let wake = await group.next() ?? .committed
            group.cancelAll()
            return wake
        }
    }

    private func wait(beyond sequence: Int64) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    // Cancellation is flagged before its handler runs: checked
                    // here, under the lock, it cannot slip between the two.
                    if state.sequence > sequence || state.closed || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
