// SQLite's own memory accounting, for diagnostics (`run --verbose` prints it
// next to the process's peak RSS).

import CSQLite

public enum SQLiteMemory {
    /// The most memory SQLite has held at once in this process, in bytes.
    public static var highWater: Int64 { sqlite3_memory_highwater(0) }
}
