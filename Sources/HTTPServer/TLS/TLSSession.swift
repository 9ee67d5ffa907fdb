// One connection's TLS on its non-blocking socket (OpenSSL's socket BIO: the
// loop still owns the descriptor and its readiness). Reads and writes answer
// like the socket's own (`transferred`, `wouldBlock`, `endOfFile`, `failed`);
// the handshake runs inside the first reads and writes. TLS can need the
// other direction: a read may have to send handshake bytes, a write may have
// to receive some; the session says so, and the loop adds that readiness to
// the connection's interest and retries on it.
// See SSL_get_error(3): the call that returned WANT_* is retried as it was.

import COpenSSL
import Glibc

final class TLSSession {
    private let ssl: OpaquePointer
    /// Held so the context outlives every connection accepted with it, across a reload.
    private let context: TLSContext
    /// The last read stopped until the socket is writable (handshake bytes to send).
    private(set) var readWaitsForWritable = false
    /// The last write stopped until the socket is readable (handshake bytes to receive).
    private(set) var writeWaitsForReadable = false
    /// After a protocol error or a reset OpenSSL must not be asked to send close_notify.
    private var isBroken = false

    init?(context: TLSContext, socket: Socket) {
        guard let ssl = SSL_new(context.handle) else { return nil }
        guard SSL_set_fd(ssl, socket.fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.context = context
    }

    deinit { SSL_free(ssl) }

    /// Whether the handshake is done: before, the peer has not spoken HTTP yet.
    var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Socket.IOResult {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        readWaitsForWritable = false
        if count > 0 { return .transferred(Int(count)) }
        let result = outcome(of: count)
        if SSL_get_error(ssl, count) == SSL_ERROR_WANT_WRITE { readWaitsForWritable = true }
        return result
    }

    func send(_ bytes: UnsafeRawBufferPointer) -> Socket.IOResult {
        guard !bytes.isEmpty else { return .transferred(0) }
        ERR_clear_error()
        let count = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        writeWaitsForReadable = false
        if count > 0 { return .transferred(Int(count)) }
        let result = outcome(of: count)
        if SSL_get_error(ssl, count) == SSL_ERROR_WANT_READ { writeWaitsForReadable = true }
        return result
    }

    /// Sends close_notify, once, if the session is sound; a peer that does not answer is not waited for.
    func closeNotify() {
        guard !isBroken, isEstablished else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        isBroken = true
    }

    private func outcome(of returned: Int32) -> Socket.IOResult {
        let code = errno
        switch SSL_get_error(ssl, returned) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .endOfFile
        case SSL_ERROR_SYSCALL:
            isBroken = true
            return code == 0 ? .endOfFile : .failed(code)
        default:
            // A protocol error: not TLS at all, a handshake we refuse, a bad record.
            isBroken = true
            return .failed(EPROTO)
        }
    }

    /// OpenSSL's queued error, as ": reason", or nothing; the queue is cleared.
    static func openSSLReason() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return ": " + String(cString: buffer)
    }
}
