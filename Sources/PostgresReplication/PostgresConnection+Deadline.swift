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
        try finish(try send(sql, parameters, timeout: timeout), operation: sql)
    }

    /// Sends `sql` and returns its last result (a COPY's first), read within
    /// `timeout` (without limit when nil).
    func send(_ sql: String, _ parameters: [String?], timeout: Duration?) throws(PostgresError) -> OpaquePointer? {
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let sent = copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
            parameters.isEmpty
                ? PQsendQuery(handle, sql)
                : PQsendQueryParams(handle, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
        }
        guard sent == 1 else { throw PostgresError(kind: .connection, operation: sql, message: errorMessage) }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var last: OpaquePointer?
        while true {
            do {
                try awaitInput(until: deadline, timeout: timeout, operation: sql)
            } catch {
                if let last { PQclear(last) }
                throw error
            }
            guard let result = PQgetResult(handle) else { break }
            let status = PQresultStatus(result)
            if let previous = last { PQclear(previous) }
            last = result
            // A COPY result has no end to wait for here; its caller reads the data.
            if status == PGRES_COPY_OUT || status == PGRES_COPY_IN || status == PGRES_COPY_BOTH { break }
        }
        return last
    }

    /// Waits until libpq can hand out the next result without blocking.
    func awaitInput(until deadline: ContinuousClock.Instant?, timeout: Duration?, operation: String)
        throws(PostgresError)
    {
        while PQisBusy(handle) == 1 {
            try awaitBytes(until: deadline, timeout: timeout, operation: operation)
        }
    }

    /// Waits until bytes from the server have arrived and libpq has read them;
    /// throws once `deadline` passes (never when nil).
    func awaitBytes(until deadline: ContinuousClock.Instant?, timeout: Duration?, operation: String)
        throws(PostgresError)
    {
        while true {
            var milliseconds: Int64 = -1
            if let deadline, let timeout {
                let left = deadline - ContinuousClock.now
                guard left > .zero else {
                    throw PostgresError(
                        kind: .connection, operation: operation,
                        message: "no answer from the server within \(timeout.components.seconds) s; "
                            + "the connection is dead, stalled or the server is blocked")
                }
                milliseconds = max(
                    1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: milliseconds))
            if ready < 0 && errno != EINTR {
                throw PostgresError(kind: .connection, operation: "poll", message: String(cString: strerror(errno)))
            }
            guard ready > 0 else { continue }
            guard PQconsumeInput(handle) == 1 else {
                throw PostgresError(kind: .connection, operation: operation, message: errorMessage)
            }
            return
        }
    }
}
