// A query with a deadline on the client side. `PQexec` waits for the answer
// without limit, and a server-side `statement_timeout` cannot help when the
// network path is what hangs (a half-open connection, a stalled link): the
// query is sent with `PQsendQuery`, and the socket polled until the answer is
// complete or the deadline passes.

import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

extension PostgresConnection {
    /// Runs one statement like `query(_:_:)`, but throws a connection error
    /// when the whole answer has not arrived within `timeout`. After that the
    /// connection is in an unknown state: close it.
    public func query(_ sql: String, _ parameters: [String?], timeout: Duration) throws(PostgresError) -> QueryResult {
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let sent = copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
            parameters.isEmpty
                ? PQsendQuery(handle, sql)
                : PQsendQueryParams(handle, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
        }
        guard sent == 1 else { throw PostgresError(kind: .connection, operation: sql, message: errorMessage) }
        let deadline = ContinuousClock.now + timeout
        var last: OpaquePointer?
        while true {
            try awaitInput(until: deadline, timeout: timeout, operation: sql)
            guard let result = PQgetResult(handle) else { break }
            let status = PQresultStatus(result)
            if let previous = last { PQclear(previous) }
            last = result
            // A COPY result has no end to wait for here; its caller reads the data.
            if status == PGRES_COPY_OUT || status == PGRES_COPY_IN || status == PGRES_COPY_BOTH { break }
        }
        return try finish(last, operation: sql)
    }

    /// Waits until libpq can hand out the next result without blocking.
    private func awaitInput(until deadline: ContinuousClock.Instant, timeout: Duration, operation: String)
        throws(PostgresError)
    {
        while PQflush(handle) == 1 || PQisBusy(handle) == 1 {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw PostgresError(
                    kind: .connection, operation: operation,
                    message: "no answer from the server within \(timeout.components.seconds) s; "
                        + "the connection is dead, stalled or the server is blocked")
            }
            let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: max(1, min(milliseconds, 1000))))
            if ready < 0 && errno != EINTR {
                throw PostgresError(kind: .connection, operation: "poll", message: String(cString: strerror(errno)))
            }
            if ready > 0, PQconsumeInput(handle) != 1 {
                throw PostgresError(kind: .connection, operation: operation, message: errorMessage)
            }
        }
    }
}
