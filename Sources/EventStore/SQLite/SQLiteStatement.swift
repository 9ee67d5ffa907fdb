// One prepared statement, reused for every call: bind, step, read columns,
// reset. The hot path (one INSERT per block of events) goes through here, so
// it does no allocation of its own and binds the block without copying it.

import CSQLite

/// SQLite's `SQLITE_TRANSIENT` (the C macro casts -1 to a function pointer,
/// which Swift cannot import): SQLite copies the bytes before the bind returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

package final class SQLiteStatement {
    private var handle: OpaquePointer?
    private let path: String

    init(handle: OpaquePointer, path: String) {
        self.handle = handle
        self.path = path
    }

    deinit { finalize() }

    /// Releases the statement; later calls fail with SQLITE_MISUSE instead of crashing.
    package func finalize() {
        guard let statement = handle else { return }
        handle = nil
        sqlite3_finalize(statement)
    }

    // MARK: Binding (parameters are 1-based, as in SQLite)

    package func bind(_ value: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, value)
    }

    package func bindNull(at index: Int32) {
        sqlite3_bind_null(handle, index)
    }

    /// Binds text; SQLite copies it.
    package func bind(_ value: String, at index: Int32) {
        sqlite3_bind_text(handle, index, value, -1, transient)
    }

    /// Binds bytes without copying them (SQLITE_STATIC). The caller steps and
    /// resets before `bytes` goes away; SQLite reads bound values only while
    /// stepping, and the next call binds this parameter again.
    func bindNoCopy(_ bytes: UnsafeRawBufferPointer, at index: Int32) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            // A NULL pointer would store NULL, not an empty blob.
            sqlite3_bind_zeroblob(handle, index, 0)
            return
        }
        sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(bytes.count), nil)
    }

    // MARK: Running

    /// Runs the statement one step: true when a row is ready to read, false when
    /// it is done. Throws (after resetting) on failure.
    @discardableResult
    package func step(_ operation: @autoclosure () -> String) throws(EventStoreError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let error = SQLiteConnection.error(
            rc, db: handle.flatMap { sqlite3_db_handle($0) }, operation: operation(), path: path)
        sqlite3_reset(handle)
        throw error
    }

    /// Makes the statement ready to run again (and releases any read it holds).
    package func reset() {
        sqlite3_reset(handle)
    }

    /// Binds, steps once and resets: for INSERT, UPDATE, DELETE and transaction control.
    package func run(_ operation: @autoclosure () -> String) throws(EventStoreError) {
        defer { sqlite3_reset(handle) }
        try step(operation())
    }

    // MARK: Columns (0-based, as in SQLite)

    package func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    package func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    package func text(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: text)
    }

    /// Copies a blob column out (the pointer SQLite returns dies at the next step).
    package func bytes(_ column: Int32) -> [UInt8] {
        // Ask for the pointer before the length, as SQLite's documentation advises.
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Lends a blob column without copying; valid only inside `body`.
    func withBytes<R>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: count > 0 ? pointer : nil, count: count))
    }
}
