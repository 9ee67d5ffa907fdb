// COPY … TO STDOUT: rows streamed out of Postgres one by one, never a whole
// table in memory (the snapshot reads tables this way).

import CLibPQ

extension PostgresConnection {
    /// Runs a `COPY … TO STDOUT` statement and hands each row (one line of
    /// COPY text format, newline included) to `row`. Returns the row count.
    @discardableResult
    public func copyOut(_ sql: String, row: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        if let queryTimeout { return try copyOut(sql, inactivityTimeout: queryTimeout, row: row) }
        _ = try finish(PQexec(handle, sql), operation: sql, expecting: PGRES_COPY_OUT)
        var rows = 0
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length > 0, let buffer {
                defer { PQfreemem(buffer) }
                try row(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                rows += 1
                continue
            }
            if length == -1 { break }
            throw PostgresError(kind: .connection, operation: sql, message: errorMessage)
        }
        // The COPY's own result says whether it ended well.
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) != PGRES_COMMAND_OK {
                throw Self.error(from: result, operation: sql, connection: handle)
            }
        }
        return rows
    }
}
