// The one error type of the event store.
//
// Callers branch on `kind` (retry when busy, stop the pipeline when the disk is
// full, answer 404 when a store does not exist); people read `description`,
// which names the file, the operation, SQLite's own words and what to do.

/// Why an event store operation failed.
public struct EventStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in terms a caller can branch on. The raw value is a
    /// stable code for logs and API responses.
    public enum Kind: String, Sendable, Hashable {
        /// The store file (or a directory on its path) does not exist.
        case notFound = "not_found"
        /// The operating system refused access to the file or its directory.
        case permissionDenied = "permission_denied"
        /// The file or its file system is read-only.
        case readOnly = "read_only"
        /// No space left on the device (or a size limit was hit).
        case diskFull = "disk_full"
        /// Another connection holds a lock the operation needs and the busy
        /// timeout expired.
        case busy = "busy"
        /// Another `EventStoreWriter` (in this or another process) owns the store.
        case writerAlreadyOpen = "writer_already_open"
        /// The file is damaged or is not a SQLite database.
        case corrupt = "corrupt"
        /// The path holds something other than a popsink event store (another
        /// SQLite database, a directory, an empty file).
        case notAnEventStore = "not_an_event_store"
        /// The store was written by a newer version with a schema this one does not know.
        case newerSchema = "newer_schema"
        /// A read or write of the file failed at the operating-system level.
        case ioError = "io_error"
        /// A checkpoint that would break the exactly-once invariants was refused.
        case invalidCheckpoint = "invalid_checkpoint"
        /// An argument was malformed (for example an event id that is not `X/Y:N`).
        case invalidArgument = "invalid_argument"
        /// The API was used out of order (append without a group, use after close).
        case misuse = "misuse"
        /// A cursor is older than the oldest retained event: retention deleted
        /// events the consumer had not read (`firstAvailableAfter` says where
        /// reading can resume). The API's `410 Gone`.
        case cursorExpired = "cursor_expired"
        /// A cursor names another store (`storeID` is this store's): the
        /// pipeline's store was deleted and recreated since the cursor was made.
        case cursorOfOtherStore = "cursor_other_store"
        /// A cursor is beyond the last stored sequence (`lastSequence`): it
        /// cannot come from this store.
        case cursorBeyondEnd = "cursor_beyond_end"
        /// Any other SQLite failure.
        case other = "sqlite_error"
    }

    /// What went wrong.
    public let kind: Kind
    /// SQLite's primary result code (`SQLITE_FULL` is 13), 0 when the error did not come from SQLite.
    public let code: Int32
    /// SQLite's extended result code (`SQLITE_IOERR_FSYNC` ...), 0 when the error did not come from SQLite.
    public let extendedCode: Int32
    /// The operating-system `errno` behind the failure, 0 when none.
    public let systemErrno: Int32
    /// SQLite's message (`sqlite3_errmsg`) or the store's own explanation.
    public let message: String
    /// What the store was doing: "open", "append", "commit group", ...
    public let operation: String
    /// The database file.
    public let path: String
    /// For `.cursorExpired`: the cursor to resume from (the oldest retained
    /// event's sequence minus one).
    public internal(set) var firstAvailableAfter: Int64?
    /// For `.cursorBeyondEnd` (and `.cursorOfOtherStore`): the store's last sequence.
    public internal(set) var lastSequence: Int64?
    /// For the cursor kinds: this store's id, to send back with the cursor.
    public internal(set) var storeID: StoreID?
    /// For `.diskFull` while storing a group: about how many more bytes of free
    /// space the store needs to commit it.
    public internal(set) var bytesNeeded: Int64?

    public init(
        kind: Kind, operation: String, path: String, message: String,
        code: Int32 = 0, extendedCode: Int32 = 0, systemErrno: Int32 = 0
    ) {
        self.kind = kind
        self.operation = operation
        self.path = path
        self.message = message
        self.code = code
        self.extendedCode = extendedCode
        self.systemErrno = systemErrno
    }

    /// Whether trying the same operation again later can succeed without anyone
    /// changing anything but time (a lock released, space freed by retention).
    public var isRetryable: Bool {
        switch kind {
        case .busy, .diskFull, .writerAlreadyOpen, .ioError: true
        default: false
        }
    }

    /// One sentence telling the user what to do about it.
    public var remediation: String {
        switch kind {
        case .notFound:
            "Check the path: a writer needs every directory on it to exist or be creatable, a reader needs a store a pipeline has already created."
        case .permissionDenied:
            "Give the service's user read and write access to the file and its directory, or choose another data directory."
        case .readOnly:
            "Mount the data directory read-write or choose a writable data directory."
        case .diskFull:
            "Free \(bytesNeeded.map { "at least \(($0 + (1 << 20) - 1) >> 20) MiB" } ?? "space") on the volume or shorten event retention; the group that failed was not stored and will be received again."
        case .busy:
            "Another connection held the database too long; retry, and make sure only one pipeline writes to this store."
        case .writerAlreadyOpen:
            "Stop the other pipeline or process using this store; each store has exactly one writer."
        case .corrupt:
            "If this is the pipeline's store it is damaged: restore it from a backup, or remove it and re-snapshot the pipeline; if it is some other file, point the pipeline elsewhere."
        case .notAnEventStore:
            "Point the pipeline at its own store file; this path holds something else."
        case .newerSchema:
            "Run a popsink-pg version at least as new as the one that wrote this store."
        case .ioError:
            "Check the disk and the kernel log for I/O errors, then restart the pipeline."
        case .invalidCheckpoint:
            "This is a bug in the caller: the checkpoint must cover the stored events and never move backwards."
        case .invalidArgument:
            "Correct the argument and try again."
        case .misuse:
            "This is a bug in the caller: use the store in the documented order."
        case .cursorExpired:
            "Resume from \(firstAvailableAfter.map(String.init) ?? "the oldest retained event") and re-sync what was missed from the source; register a named consumer so retention keeps what it has not acknowledged."
        case .cursorOfOtherStore:
            "The pipeline's store was reset since this cursor was made: start again from 0 with store=\(storeID?.description ?? "<the store id of a fresh page>") and re-sync what the consumer holds."
        case .cursorBeyondEnd:
            "Resume from a cursor this store returned (at most \(lastSequence.map(String.init) ?? "its last sequence")); if the store was reset, start again from 0 and re-sync what the consumer holds."
        case .other:
            "See SQLite's message; if it persists, report it with this text."
        }
    }

    public var description: String {
        var text = "event store \(path): \(operation) failed: \(message)"
        if code != 0 {
            text += " (\(SQLiteResultName.name(of: extendedCode != 0 ? extendedCode : code)))"
        }
        return text + ". " + remediation
    }
}

extension EventStoreError {
    /// An API-order error, raised before anything touches the database.
    static func misuse(_ message: String, operation: String, path: String) -> Self {
        Self(kind: .misuse, operation: operation, path: path, message: message)
    }
}

extension EventStoreError {
    /// For a full disk while storing a group: how much free space the store
    /// needs, roughly. A group is written to the WAL and later copied into the
    /// database file, and the WAL may grow by one checkpoint interval (4096
    /// pages of 4 KiB, `wal_autocheckpoint`) before it is reused.
    func withSpaceNeeded(forGroupBytes bytes: Int64) -> Self {
        guard kind == .diskFull else { return self }
        var error = self
        error.bytesNeeded = 2 * bytes + 4096 * 4096
        return error
    }
}
