// Errors from Postgres and libpq, with what the server said (SQLSTATE,
// message, detail, hint) and what the user should do about it.

/// A failure talking to Postgres.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// Could not connect, or the connection was lost.
        case connection
        /// The server rejected a command or query.
        case server
        /// The server sent something the protocol does not allow.
        case protocolViolation
    }

    public var kind: Kind
    /// What we were doing, e.g. "START_REPLICATION".
    public var operation: String
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?

    public init(
        kind: Kind, operation: String, sqlState: String? = nil, message: String,
        detail: String? = nil, hint: String? = nil
    ) {
        self.kind = kind
        self.operation = operation
        self.sqlState = sqlState
        self.message = message.trimmingTrailingWhitespace()
        self.detail = detail
        self.hint = hint
    }

    /// Whether trying again later can succeed: a lost connection, a server
    /// shutting down or restarting, a slot still held by a dying walsender.
    public var isRetryable: Bool {
        if let sqlState {
            if sqlState.hasPrefix("08") || sqlState.hasPrefix("53") { return true }
            return ["57P01", "57P02", "57P03", "55006", "40001", "40P01", "58000", "XX000"]
                .contains(sqlState)
        }
        guard kind == .connection else { return false }
        let permanent = [
            "password authentication failed", "no pg_hba.conf entry", "does not exist",
            "permission denied", "must be superuser", "certificate", "SSL error",
            "sslmode", "invalid connection option", "role", "no password supplied",
        ]
        return !permanent.contains { message.contains($0) }
    }

    /// One sentence on what to do, for the errors users meet most.
    public var remediation: String? {
        switch sqlState {
        case "42501":
            return "Grant the missing privilege to the connecting role (see `popsink-pg check`)."
        case "42704":
            return "Create the missing object (publication or slot), or point the pipeline at one that exists."
        case "55000":
            return "Check the server configuration: logical replication needs wal_level = logical (restart required)."
        case "53400":
            return "Raise max_replication_slots or max_wal_senders, or drop unused slots."
        case "55006":
            return "Another process is using the replication slot; stop it, or wait for its walsender to exit."
        case "3D000":
            return "Check the database name in the source."
        case "28P01", "28000":
            return "Check the user and password (PGPASSWORD, --password-file or ~/.pgpass) and pg_hba.conf."
        default:
            if kind == .connection {
                return isRetryable
                    ? "Check that Postgres is running and reachable at the source's host and port."
                    : "Fix the source settings or the server's pg_hba.conf; retrying will not help."
            }
            return nil
        }
    }

    public var description: String {
        var text = "\(operation) failed"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        text += ": \(message)"
        if let detail, !detail.isEmpty { text += " Detail: \(detail)" }
        if let hint, !hint.isEmpty { text += " Hint: \(hint)" }
        if let remediation { text += " What to do: \(remediation)" }
        return text
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = self
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
