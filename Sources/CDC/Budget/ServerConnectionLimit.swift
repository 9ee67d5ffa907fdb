// Postgres refusing a connection for lack of room: the server's
// `max_connections` (less its reserved slots) or a `CONNECTION LIMIT` on the
// role or the database. libpq reports these at connect time as text (the
// SQLSTATE 53300 is not always there), so the message is matched too.

import PostgresReplication

enum ServerConnectionLimit {
    static func isRefusal(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError, error.kind == .connection else { return false }
        if error.sqlState == "53300" { return true }
        return error.message.contains("too many connections")
            || error.message.contains("remaining connection slots are reserved")
            || error.message.contains("too many clients")
    }

    /// Retryable: the connections may be free again once another client goes.
    static func pipelineError(_ error: PostgresError) -> PipelineError {
        PipelineError(
            .connectionLimit, "Postgres refused a connection: \(error.message)", sqlState: error.sqlState ?? "53300",
            retryable: true,
            remediation:
                "Set the source's max_connections to what the server leaves popsink-pg (SHOW max_connections; "
                + "SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user), or raise those limits; "
                + "the pipeline retries by itself.")
    }
}
