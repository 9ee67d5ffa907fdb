// The one error type a pipeline reports: a stable code callers branch on,
// whether retrying can help, the Postgres SQLSTATE when there is one, and a
// sentence telling the user what to do.

import PostgresReplication

/// Why a pipeline failed or is retrying.
public struct PipelineError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable, Codable {
        case invalidConfiguration = "invalid_configuration"
        /// Connection refused, lost, or the server restarting: retried.
        case connectionLost = "connection_lost"
        /// The server refused a command; `sqlState` says why.
        case postgres
        /// The slot the checkpoint refers to is gone.
        case slotMissing = "slot_missing"
        /// The slot exists but the store has no checkpoint for it.
        case slotWithoutCheckpoint = "slot_without_checkpoint"
        /// The slot confirmed changes the store does not have.
        case slotAhead = "slot_ahead"
        /// Postgres removed WAL the slot still needed (`wal_status = lost`).
        case slotInvalidated = "slot_invalidated"
        /// The store was filled through another replication slot than the configured one.
        case slotMismatch = "slot_mismatch"
        /// The store belongs to another Postgres cluster or database.
        case otherSystem = "other_system"
        case publicationMissing = "publication_missing"
        case store
        /// The store's disk is full: nothing more is confirmed to Postgres until
        /// space is freed; retried with backoff.
        case storeFull = "store_full"
        /// The store's file was locked by another connection too long; retried.
        case storeBusy = "store_busy"
        case protocolViolation = "protocol_violation"
        /// The source's connection budget or a server limit (`max_connections`,
        /// the role's `CONNECTION LIMIT`) leaves no connection: retried.
        case connectionLimit = "connection_limit"
    }

    public var code: Code
    public var message: String
    public var sqlState: String?
    public var isRetryable: Bool
    public var remediation: String?

    public init(
        _ code: Code, _ message: String, sqlState: String? = nil, retryable: Bool = false, remediation: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.isRetryable = retryable
        self.remediation = remediation
    }

    public init(_ error: PostgresError) {
        self.init(
            error.kind == .connection && error.sqlState == nil ? .connectionLost : .postgres,
            error.description, sqlState: error.sqlState, retryable: error.isRetryable,
            remediation: error.remediation)
    }

    public var description: String {
        var text = "[\(code.rawValue)] \(message)"
        if let remediation, !message.contains(remediation) { text += " What to do: \(remediation)" }
        return text
    }
}
