// The async front end of a one-off SQL query (the API's table list, dropping
// a slot): connect, run, disconnect, all on a `Blocking` thread, since every
// libpq call blocks.

import Blocking

extension PostgresConnection {
    /// Opens an SQL session with `settings`, runs `sql` and closes the session,
    /// off the cooperative pool.
    public static func query(
        settings: ConnectionSettings, applicationName: String = "popsink-pg", _ sql: String,
        _ parameters: [String?] = []
    ) async throws(PostgresError) -> QueryResult {
        try await Blocking.run { () throws(PostgresError) -> QueryResult in
            let connection = try PostgresConnection(settings: settings, mode: .sql, applicationName: applicationName)
            return try connection.query(sql, parameters)
        }
    }
}
