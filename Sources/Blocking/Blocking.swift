// The one way a blocking call (libpq, SQLite, file reads) is made from async
// code: it runs on a thread the service owns, never on Swift's cooperative
// pool, whose few threads must stay free for the event loop's handlers.

/// Runs blocking work off the cooperative pool.
public enum Blocking {
    /// Runs `work` on a thread of `BlockingThreads.shared` and returns its
    /// result. The caller's task suspends meanwhile; cancelling it does not
    /// interrupt `work` (a blocking call cannot be), the result is just
    /// delivered when it ends.
    public static func run<T: Sendable, Failure: Error>(
        _ work: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            BlockingThreads.shared.submit {
                continuation.resume(returning: Result { () throws(Failure) -> T in try work() })
            }
        }
        return try result.get()
    }
}
