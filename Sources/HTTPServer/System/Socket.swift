// Thin wrapper over a non-blocking TCP socket descriptor: together with `EPoll`,
// `EventFD` and `FileSystem` the only code in the server that makes syscalls.
// Every call retries on EINTR and reports EAGAIN as `wouldBlock` instead of waiting.
import Glibc

struct Socket: Sendable, Hashable {
    let fd: Int32

    enum IOResult: Equatable {
        case transferred(Int)
        case wouldBlock
        case endOfFile
        case failed(Int32)
    }

    enum AcceptResult {
        case accepted(Socket, remote: SocketAddress)
        case wouldBlock
        /// ECONNABORTED, EPROTO and the like: this one connection failed, keep accepting.
        case skipped
        /// EMFILE, ENFILE, ENOBUFS, ENOMEM: stop polling the listener for a while
        /// instead of spinning on an accept that cannot succeed.
        case outOfResources(Int32)
        case failed(Int32)
    }

    /// A non-blocking listening socket with `SO_REUSEADDR`, bound to `address`.
    static func listening(on address: SocketAddress, backlog: Int32) throws(HTTPServerError) -> Socket {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = Glibc.socket(address.family, flags, 0)
        guard fd >= 0 else { throw HTTPServerError.system(.socketFailed, "socket", errno) }
        let socket = Socket(fd: fd)
        var on: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let code = errno
            socket.close()
            throw HTTPServerError.system(.socketFailed, "setsockopt(SO_REUSEADDR)", code)
        }
        let bound = address.withSockAddr { Glibc.bind(fd, $0, $1) }
        guard bound == 0 else {
            let code = errno
            socket.close()
            throw HTTPServerError.bindFailed(address.description, code)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            socket.close()
            throw HTTPServerError.system(.socketFailed, "listen", code)
        }
        return socket
    }

    /// The address the kernel bound, which carries the real port when port 0 was asked for.
    var localAddress: SocketAddress? {
        var address = SocketAddress()
        let status = address.fill { getsockname(fd, $0, $1) }
        return status == 0 ? address : nil
    }

    func accept() -> AcceptResult {
        while true {
            var remote = SocketAddress()
            let client = remote.fill { address, length in
                if let accept4 = acceptCloseOnExec {
                    return accept4(fd, address, length, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
                }
                return Glibc.accept(fd, address, length)
            }
            if client >= 0 {
                let socket = Socket(fd: client)
                socket.configureAccepted()
                return .accepted(socket, remote: remote)
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP,
                ENETUNREACH:
                return .skipped
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .outOfResources(errno)
            case let code: return .failed(code)
            }
        }
    }

    /// Accepted sockets do not inherit O_NONBLOCK on Linux (accept4 sets it,
    /// and this repeats it for the fallback); small responses and
    /// event-stream chunks must not wait for Nagle's algorithm.
    private func configureAccepted() {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return .transferred(count) }
            if count == 0 { return .endOfFile }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    /// `MSG_NOSIGNAL`: a client that has gone away yields EPIPE here rather than a SIGPIPE.
    func send(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .transferred(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    /// Sends FIN while still reading, so a final error response is not lost to a reset
    /// caused by request bytes the server never read (RFC 9112 §9.6).
    func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    func close() {
        // Linux releases the descriptor even when close reports EINTR; never retry.
        _ = Glibc.close(fd)
    }
}

/// accept4, looked up at run time: Swift's Glibc module does not declare it
/// (it needs _GNU_SOURCE), and defining that in a shim module breaks the
/// build. Accepting with SOCK_CLOEXEC closes the window in which a process
/// spawned by another thread between accept() and fcntl() inherits the
/// connection and keeps it open after we close it (seen in CI: a close-delimited
/// response whose client never saw the end).
private typealias Accept4 =
    @convention(c) (
        Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32
    ) -> Int32

private let acceptCloseOnExec: Accept4? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "accept4")
    .map { unsafeBitCast($0, to: Accept4.self) }
