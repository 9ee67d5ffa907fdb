// How many client connections the process can afford. Every connection is a
// descriptor, and so is every SQLite file (database, WAL, shared memory) and every
// libpq connection: if the server took the whole RLIMIT_NOFILE, a busy API would
// make the pipelines fail with EMFILE. The server gets a fraction of the limit.
import Glibc

public enum FileDescriptorBudget {
    /// The part of the descriptor limit left to client connections.
    static let connectionShare = 2
    /// The most connections the default allows, however high the limit.
    static let defaultCap = 1024

    /// Raises the soft RLIMIT_NOFILE to the hard limit (the default soft limit is often
    /// 1024 while the hard one is far higher) and returns the soft limit now in force.
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return clamp(limit.rlim_cur)
    }

    /// The soft RLIMIT_NOFILE in force.
    public static func currentLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return clamp(limit.rlim_cur)
    }

    /// The most connections that fit in `limit` descriptors with the rest of the process.
    public static func maxConnections(forLimit limit: Int) -> Int {
        max(1, limit / connectionShare)
    }

    /// `min(1024, half the descriptor limit)`.
    public static func defaultMaxConnections(limit: Int = currentLimit()) -> Int {
        min(defaultCap, maxConnections(forLimit: limit))
    }

    /// RLIM_INFINITY is the largest rlim_t, so it clamps too.
    private static func clamp(_ value: rlim_t) -> Int {
        value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value)
    }
}
