// Values quoted by libpq for statements that take no bind parameters (COPY,
// ALTER PUBLICATION … WHERE). PQescapeLiteral knows the connection's client
// encoding and standard_conforming_strings, which a quoting of our own would
// have to guess.

import CLibPQ

extension PostgresConnection {
    /// `text` as a SQL string literal (`'it''s'`, or `E'a\\b'` with a
    /// backslash). Throws when libpq refuses it (text invalid in the
    /// connection's encoding). A NUL ends the text, so callers refuse it first.
    public func escapeLiteral(_ text: String) throws(PostgresError) -> String {
        let length = text.utf8.count
        let escaped = text.withCString { PQescapeLiteral(handle, $0, length) }
        guard let escaped else {
            throw PostgresError(
                kind: .server, operation: "PQescapeLiteral",
                message: String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines())
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }
}
