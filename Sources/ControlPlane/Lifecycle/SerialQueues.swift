// One queue of operations per key: an operation starts once the one before it
// on the same key has ended, whatever the interleaving of their callers.
// Actor methods alone do not give that: an actor runs other calls while one
// awaits (a pipeline stopping, a record being written), so a check made before
// the await no longer holds after it.

/// Runs operations one at a time per key, in the order they were submitted.
/// A value owned by one actor, which makes `submit` and `finished` atomic.
struct SerialQueues {
    private var queues: [String: (tail: Task<Void, Never>, pending: Int)] = [:]

    /// Queues `operation` behind the last one submitted for `key`; returns the
    /// task running it. It runs as a task of its own, so a caller that goes
    /// away (a client that disconnects) does not cancel it half-way. Call
    /// `finished(key)` once the task has ended.
    mutating func submit<T: Sendable>(
        _ key: String, _ operation: @escaping @Sendable () async throws -> T
    ) -> Task<T, any Error> {
        let previous = queues[key]
        let task = Task {
            await previous?.tail.value
            return try await operation()
        }
        queues[key] = (Task { _ = await task.result }, (previous?.pending ?? 0) + 1)
        return task
    }

    /// Forgets `key` once no operation is queued on it.
    mutating func finished(_ key: String) {
        guard let queue = queues[key] else { return }
        queues[key] = queue.pending > 1 ? (queue.tail, queue.pending - 1) : nil
    }
}
