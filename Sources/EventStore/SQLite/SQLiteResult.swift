// Turns SQLite result codes (and the errno behind them) into the store's error
// kinds and readable names.
//
// Result codes: https://www.sqlite.org/rescode.html. The primary code is the
// low byte of the extended code.

import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

enum SQLiteResultName {
    /// `SQLITE_FULL`, or `SQLITE_IOERR (extended 1034)` for an extended code.
    static func name(of code: Int32) -> String {
        let primary = code & 0xFF
        let base = primaryNames[primary] ?? "SQLite code \(primary)"
        return code == primary ? base : "\(base), extended code \(code)"
    }

    private static let primaryNames: [Int32: String] = [
        SQLITE_ERROR: "SQLITE_ERROR", SQLITE_INTERNAL: "SQLITE_INTERNAL", SQLITE_PERM: "SQLITE_PERM",
        SQLITE_ABORT: "SQLITE_ABORT", SQLITE_BUSY: "SQLITE_BUSY", SQLITE_LOCKED: "SQLITE_LOCKED",
        SQLITE_NOMEM: "SQLITE_NOMEM", SQLITE_READONLY: "SQLITE_READONLY", SQLITE_INTERRUPT: "SQLITE_INTERRUPT",
        SQLITE_IOERR: "SQLITE_IOERR", SQLITE_CORRUPT: "SQLITE_CORRUPT", SQLITE_NOTFOUND: "SQLITE_NOTFOUND",
        SQLITE_FULL: "SQLITE_FULL", SQLITE_CANTOPEN: "SQLITE_CANTOPEN", SQLITE_PROTOCOL: "SQLITE_PROTOCOL",
        SQLITE_SCHEMA: "SQLITE_SCHEMA", SQLITE_TOOBIG: "SQLITE_TOOBIG", SQLITE_CONSTRAINT: "SQLITE_CONSTRAINT",
        SQLITE_MISMATCH: "SQLITE_MISMATCH", SQLITE_MISUSE: "SQLITE_MISUSE", SQLITE_AUTH: "SQLITE_AUTH",
        SQLITE_RANGE: "SQLITE_RANGE", SQLITE_NOTADB: "SQLITE_NOTADB",
    ]
}

extension EventStoreError.Kind {
    /// The kind for a SQLite failure. The errno decides between causes SQLite
    /// folds into one code (`SQLITE_CANTOPEN` for a missing file, a denied
    /// permission or a read-only file system).
    init(sqliteCode code: Int32, systemErrno: Int32) {
        switch systemErrno {
        case ENOSPC, EDQUOT:
            self = .diskFull
            return
        case EROFS:
            self = .readOnly
            return
        default: break
        }
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: self = .busy
        case SQLITE_FULL: self = .diskFull
        case SQLITE_READONLY: self = .readOnly
        case SQLITE_CORRUPT, SQLITE_NOTADB: self = .corrupt
        case SQLITE_PERM, SQLITE_AUTH: self = .permissionDenied
        case SQLITE_IOERR: self = .ioError
        case SQLITE_MISUSE: self = .misuse
        case SQLITE_CANTOPEN:
            switch systemErrno {
            case ENOENT, ENOTDIR: self = .notFound
            case EACCES, EPERM: self = .permissionDenied
            case EISDIR: self = .notAnEventStore
            default: self = .other
            }
        default: self = .other
        }
    }
}

/// The text of an errno, "No such file or directory".
func systemErrorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
