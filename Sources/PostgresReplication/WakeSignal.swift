// A self-pipe that wakes a thread blocked in `poll`, so a stop request takes
// effect at once instead of at the next timeout.

#if canImport(Glibc)
    import Glibc
#endif

/// Wakes a worker thread waiting in `poll`. Safe to signal from any thread.
public final class WakeSignal: Sendable {
    /// Becomes readable once `signal()` was called.
    public let readDescriptor: Int32
    private let writeDescriptor: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        // A failed pipe() leaves -1s: poll then ignores the descriptor and
        // stop requests are seen at the next poll timeout instead.
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    public func signal() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    /// Empties the pipe so the next `poll` blocks again.
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
    }
}
