// The event loop's thread, which the server owns: its blocking call
// (epoll_wait) runs there, never on Swift's cooperative pool. It is named: a thread created from a pool thread would otherwise carry its
// name (`com.apple.root.default-qos`), and profiles could not tell them apart.
import CHTTPShims
import Glibc

enum SystemThread {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread called `name` (15 bytes at most).
    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(HTTPServerError) {
        let box = Unmanaged.passRetained(
            Box {
                _ = chttp_name_current_thread(name)
                body()
            }
        ).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, nil,
            { argument in
                let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        guard status == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw HTTPServerError.system(.socketFailed, "pthread_create", status)
        }
        pthread_detach(thread)
    }

    /// A write to a closed socket must fail with EPIPE, not kill the process.
    static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}
