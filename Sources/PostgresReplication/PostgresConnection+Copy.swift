// COPY … TO STDOUT: rows streamed out of Postgres one by one, never a whole
// table in memory (the snapshot reads tables this way). With a
// `queryTimeout`, a COPY may run as long as it likes but fails once the
// server has been silent that long (a stalled link, a half-open connection).

import CLibPQ

extension PostgresConnection {
    /// Runs a `COPY … TO STDOUT` statement and hands each row (one line of
    /// COPY text format, newline included) to `row`. Returns the row count.
    /// Throws a connection error when `queryTimeout` passes without a byte
    /// from the server; the connection is then in an unknown state: close it.
    @discardableResult
    public func copyOut(_ sql: String, row: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let timeout = queryTimeout
        _ = try finish(try send(sql, [], timeout: timeout), operation: sql, expecting: PGRES_COPY_OUT)
        var rows = 0
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 1)
            if length > 0, let buffer {
                defer { PQfreemem(buffer) }
                try row(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                rows += 1
                continue
            }
            if length == -1 { break }
            guard length == 0 else { throw PostgresError(kind: .connection, operation: sql, message: errorMessage) }
            try awaitBytes(until: timeout.map { ContinuousClock.now + $0 }, timeout: timeout, operation: sql)
        }
        // The COPY's own result says whether it ended well.
        while true {
            try awaitInput(until: timeout.map { ContinuousClock.now + $0 }, timeout: timeout, operation: sql)
            guard let result = PQgetResult(handle) else { break }
            defer { PQclear(result) }
            if PQresultStatus(result) != PGRES_COMMAND_OK {
                throw Self.error(from: result, operation: sql, connection: handle)
            }
        }
        return rows
    }
}
