// Blocking work started from async tests runs on a thread of its own: the
// cooperative pool has two threads on these machines, and a test blocked on
// one (a cluster's initdb, a child process) stalls every other test of the
// process, including the in-process HTTP servers other tests are talking to.

import Foundation

/// `body` on a new thread; the caller suspends instead of blocking.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
