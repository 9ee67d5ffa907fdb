// How hard a commit works to survive a crash: SQLite's `synchronous` setting
// for a WAL database (https://www.sqlite.org/pragma.html#pragma_synchronous).

/// When a committed group is safe.
public enum Durability: Sendable, Hashable {
    /// `synchronous=FULL`: the WAL is fsynced at every commit, so a committed
    /// group survives a power loss or OS crash. Required for the flush LSN
    /// confirmed to Postgres to be truthful; the default.
    case full
    /// `synchronous=NORMAL`: the WAL is fsynced only at checkpoints. A committed
    /// group survives the process crashing but the last groups can be lost on
    /// power loss or an OS crash, after Postgres was told they were flushed.
    /// Only for tests and throwaway pipelines.
    case normal

    var pragmaValue: String {
        switch self {
        case .full: "FULL"
        case .normal: "NORMAL"
        }
    }
}
