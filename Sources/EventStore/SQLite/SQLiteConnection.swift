// A thin owner of one `sqlite3*` handle: open, execute, prepare, close, and
// turn failures into `EventStoreError`s. With `SQLiteStatement` it is the only
// code that touches SQLite's C pointers, and the one SQLite stack of the
// package: the control plane's state store uses it too (`package` access).
// The event store's hot path was measured on it (bench/stream), and a second
// stack (GRDB) for two small tables was a second way of doing one thing.
//
// Connections are opened with SQLITE_OPEN_NOMUTEX (multi-thread mode): each is
// used by one thread at a time (the writer by its pipeline thread, a reader
// under its own lock), so SQLite's per-call mutex would be pure overhead.

import CSQLite

package final class SQLiteConnection {
    package enum Mode {
        /// Read and write; create the file when `create` is true.
        case readWrite(create: Bool)
        /// Read only; the file must exist.
        case readOnly
    }

    let path: String
    private var handle: OpaquePointer?

    package init(path: String, mode: Mode) throws(EventStoreError) {
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readWrite(let create): flags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            // SQLite hands back a handle even on failure, so its message and errno can be read.
            let error = Self.error(rc, db: db, operation: "open", path: path)
            sqlite3_close_v2(db)
            throw error
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Closes the handle. Statements should be finalized first; `sqlite3_close_v2`
    /// defers the close until they are if one was missed.
    package func close() {
        guard let db = handle else { return }
        handle = nil
        sqlite3_close_v2(db)
    }

    package var isOpen: Bool { handle != nil }

    /// Runs one or more statements that return no rows we need (DDL, pragmas, BEGIN).
    package func execute(_ sql: String, operation: String) throws(EventStoreError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, operation: operation) }
    }

    /// Prepares a statement that lives as long as the connection and is reused
    /// for every call (SQLITE_PREPARE_PERSISTENT tells SQLite so).
    package func prepare(_ sql: String, operation: String = "prepare") throws(EventStoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, operation: "\(operation): \(sql)") }
        return SQLiteStatement(handle: statement, path: path)
    }

    /// Reads a pragma (or any single-value query) as an integer.
    package func integer(_ sql: String, operation: String) throws(EventStoreError) -> Int64 {
        let statement = try prepare(sql, operation: operation)
        defer { statement.finalize() }
        guard try statement.step(operation) else { return 0 }
        return statement.int64(0)
    }

    /// Reads a pragma (or any single-value query) as text.
    package func text(_ sql: String, operation: String) throws(EventStoreError) -> String? {
        let statement = try prepare(sql, operation: operation)
        defer { statement.finalize() }
        guard try statement.step(operation) else { return nil }
        return statement.text(0)
    }

    /// True when no transaction is open (SQLite rolls back on its own after
    /// some errors, such as a full disk during a write).
    package var isAutocommit: Bool { handle.map { sqlite3_get_autocommit($0) != 0 } ?? true }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int64 { handle.map { Int64(sqlite3_changes64($0)) } ?? 0 }

    func error(_ rc: Int32, operation: String) -> EventStoreError {
        Self.error(rc, db: handle, operation: operation, path: path)
    }

    /// Builds the error for a failed call on `db`, with SQLite's message and the
    /// errno behind it (which says *why* a file could not be opened).
    static func error(_ rc: Int32, db: OpaquePointer?, operation: String, path: String) -> EventStoreError {
        let extended = db.map { sqlite3_extended_errcode($0) } ?? rc
        let systemErrno = db.map { sqlite3_system_errno($0) } ?? 0
        var message =
            db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
        if systemErrno != 0 { message += ": " + systemErrorText(systemErrno) }
        return EventStoreError(
            kind: .init(sqliteCode: rc, systemErrno: systemErrno),
            operation: operation, path: path, message: message,
            code: rc & 0xFF, extendedCode: extended == 0 ? rc : extended, systemErrno: systemErrno)
    }
}
