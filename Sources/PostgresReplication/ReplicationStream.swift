// The COPY BOTH loop of a replication connection, non-blocking: frames are
// taken with `PQgetCopyData(async: 1)`, and when none is buffered the thread
// waits in `poll()` on the socket (and on a wake signal) with a timeout, so it
// can send status updates on time even when the server is silent.

import CLibPQ
import PostgresWire

#if canImport(Glibc)
    import Glibc
#endif

/// Reads frames from and sends status updates to a walsender in COPY BOTH mode.
public final class ReplicationStream {
    public enum Next {
        case frame(ServerFrame)
        /// Nothing is buffered; the caller may do deferred work, then wait.
        case wouldBlock
    }

    public enum Wait {
        case readable
        case timedOut
        /// The wake signal fired.
        case woken
    }

    let connection: PostgresConnection
    private var handle: OpaquePointer { connection.handle }

    init(connection: PostgresConnection) throws(PostgresError) {
        self.connection = connection
        guard PQsetnonblocking(connection.handle, 1) == 0 else {
            throw PostgresError(kind: .connection, operation: "PQsetnonblocking", message: connection.errorMessage)
        }
    }

    /// The next buffered frame, without blocking.
    public func next() throws -> Next {
        var buffer: UnsafeMutablePointer<CChar>?
        let length = PQgetCopyData(handle, &buffer, 1)
        if length > 0, let buffer {
            defer { PQfreemem(buffer) }
            let bytes = [UInt8](UnsafeRawBufferPointer(start: buffer, count: Int(length)))
            return .frame(try ServerFrame.decode(bytes))
        }
        switch length {
        case 0:
            return .wouldBlock
        case -1:
            // The server ended the COPY: read why (an error, or a clean end).
            var failure: PostgresError?
            while let result = PQgetResult(handle) {
                if PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_COPY_OUT {
                    failure = PostgresConnection.error(
                        from: result, operation: "replication stream", connection: handle)
                }
                PQclear(result)
            }
            throw failure
                ?? PostgresError(
                    kind: .connection, operation: "replication stream",
                    message: "the server ended the replication stream")
        default:
            throw PostgresError(kind: .connection, operation: "replication stream", message: connection.errorMessage)
        }
    }

    /// Waits until the socket is readable, `wake` fires, or `timeoutMilliseconds` pass,
    /// then reads whatever arrived into libpq's buffer.
    public func wait(timeoutMilliseconds: Int32, wake: WakeSignal?) throws(PostgresError) -> Wait {
        var fds = [pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)]
        if let wake { fds.append(pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0)) }
        // Output that could not be flushed earlier is flushed as soon as possible.
        if PQflush(handle) == 1 { fds[0].events |= Int16(POLLOUT) }
        let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        if ready < 0 && errno != EINTR {
            throw PostgresError(kind: .connection, operation: "poll", message: String(cString: strerror(errno)))
        }
        if fds.count > 1 && fds[1].revents != 0 { return .woken }
        if fds[0].revents & Int16(POLLOUT) != 0 { _ = PQflush(handle) }
        guard fds[0].revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 else { return .timedOut }
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError(kind: .connection, operation: "replication stream", message: connection.errorMessage)
        }
        return .readable
    }

    /// Queues a status update and pushes it out as far as the socket takes it.
    public func send(_ update: StandbyStatusUpdate) throws(PostgresError) {
        let bytes = update.bytes
        let queued = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard queued == 1, PQflush(handle) != -1 else {
            throw PostgresError(
                kind: .connection, operation: "sending a status update", message: connection.errorMessage)
        }
    }

    /// Ends the COPY from our side, after the final status update, and
    /// waits up to `timeout` for the server's CopyDone, discarding the
    /// frames that come before it. The walsender reads our messages in
    /// order, so its CopyDone proves it has read the final status update
    /// and set the slot's flush position. Closing any sooner lets a busy
    /// walsender's next write fail on the closed socket, and it exits with
    /// the status update unread in its receive buffer: the slot then stays
    /// at an earlier position. Errors are ignored: the connection is closed
    /// next anyway.
    public func finish(timeout: Duration = .seconds(10)) {
        let deadline = ContinuousClock.now + timeout
        var ended = false
        while ContinuousClock.now < deadline {
            if !ended {
                switch PQputCopyEnd(handle, nil) {
                case 1: ended = true
                case 0: break  // The output buffer is full: flush and try again.
                default: return
                }
            }
            var buffer: UnsafeMutablePointer<CChar>?
            let length = ended ? PQgetCopyData(handle, &buffer, 1) : 0
            if length > 0 {
                PQfreemem(buffer)
                continue
            }
            if length == -1 { break }
            if length < -1 { return }
            guard pollSocket(until: deadline) else { return }
        }
        // The command's own result follows the CopyDone.
        while ContinuousClock.now < deadline {
            if PQisBusy(handle) == 0 {
                guard let result = PQgetResult(handle) else { return }
                PQclear(result)
                continue
            }
            guard pollSocket(until: deadline) else { return }
        }
    }

    /// Flushes what is queued, waits for input (or for room to write) until
    /// `deadline`, and reads what arrived. False when the connection failed
    /// or the deadline passed.
    private func pollSocket(until deadline: ContinuousClock.Instant) -> Bool {
        let flushed = PQflush(handle)
        guard flushed != -1 else { return false }
        var fd = pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)
        if flushed == 1 { fd.events |= Int16(POLLOUT) }
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return false }
        let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        let ready = poll(&fd, 1, Int32(clamping: max(1, milliseconds)))
        if ready < 0 && errno != EINTR { return false }
        if fd.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 { return PQconsumeInput(handle) == 1 }
        return true
    }
}
