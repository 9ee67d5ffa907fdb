// Thin wrapper over a non-blocking eventfd: other threads signal it to wake the
// event loop out of `epoll_wait` (new responses, body writes, shutdown).
import CHTTPShims
import Glibc

struct EventFD: Sendable {
    let fd: Int32

    init() throws(HTTPServerError) {
        fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { throw HTTPServerError.system(.socketFailed, "eventfd", errno) }
    }

    func signal() {
        var one: UInt64 = 1
        // EAGAIN only when the counter is saturated, which still leaves it readable.
        while Glibc.write(fd, &one, 8) < 0, errno == EINTR {}
    }

    func drain() {
        var value: UInt64 = 0
        while Glibc.read(fd, &value, 8) < 0, errno == EINTR {}
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
