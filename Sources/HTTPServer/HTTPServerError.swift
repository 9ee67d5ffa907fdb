// The error `HTTPServer.start()` and `run()` throw when the server cannot start:
// a stable code to branch on, the errno when the kernel said no, and what to do.
import Glibc

/// Why the HTTP server could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// Stable codes callers can branch on.
    public enum Code: String, Sendable {
        /// The host or port cannot be resolved to a listening address.
        case invalidAddress = "invalid_address"
        /// Another process (or server) already listens on the address.
        case addressInUse = "address_in_use"
        /// The process may not bind the address (ports below 1024 need privileges).
        case permissionDenied = "permission_denied"
        /// A socket, epoll, eventfd or thread call failed.
        case socketFailed = "socket_failed"
        /// `start()` was called on a server that is running or has stopped.
        case alreadyStarted = "already_started"
        /// The TLS certificate or key cannot be used.
        case tlsFailed = "tls_failed"
    }

    public let code: Code
    /// The `errno` (or `pthread_create` status) behind the failure, if any.
    public let errno: Int32?
    public let message: String
    /// One sentence on how to fix it.
    public let remediation: String

    init(_ code: Code, _ message: String, errno: Int32? = nil, remediation: String) {
        self.code = code
        self.message = message
        self.errno = errno
        self.remediation = remediation
    }

    public var description: String { "\(message). \(remediation)" }

    static func system(_ code: Code, _ call: String, _ number: Int32) -> HTTPServerError {
        HTTPServerError(
            code, "\(call) failed: \(String(cString: strerror(number)))", errno: number,
            remediation: "Check the process limits (ulimit -n) and retry."
        )
    }

    static func bindFailed(_ address: String, _ number: Int32) -> HTTPServerError {
        let reason = String(cString: strerror(number))
        switch number {
        case EADDRINUSE:
            return HTTPServerError(
                .addressInUse, "cannot listen on \(address): \(reason)", errno: number,
                remediation: "Stop the other process or choose another port."
            )
        case EACCES:
            return HTTPServerError(
                .permissionDenied, "cannot listen on \(address): \(reason)", errno: number,
                remediation: "Use a port above 1024 or grant the process CAP_NET_BIND_SERVICE."
            )
        default:
            return HTTPServerError(
                .invalidAddress, "cannot listen on \(address): \(reason)", errno: number,
                remediation: "Listen on an address of this machine, such as 127.0.0.1 or ::1."
            )
        }
    }
}
