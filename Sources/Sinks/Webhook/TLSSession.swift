// TLS for https webhooks: OpenSSL over the client's non-blocking socket. The
// receiver's certificate is verified against the system's CAs or the sink's
// `ca_file`, and its name (or IP address) against the URL's host; TLS 1.2 at
// least. A certificate that does not verify parks the sink with the reason,
// like a 4xx: retrying would not change it.

import COpenSSLCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// One TLS connection on a connected socket; used by one thread.
final class TLSSession {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let socket: Int32
    private let host: String

    init(socket: Int32, host: String, caFile: String?) throws(SinkError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw SinkError(.configuration, "cannot create a TLS context: \(Self.lastError())", retryable: false)
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        _ = sinks_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        let loaded =
            caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) } ?? SSL_CTX_set_default_verify_paths(context)
        guard loaded == 1, let ssl = SSL_new(context) else {
            let reason = Self.lastError()
            SSL_CTX_free(context)
            throw SinkError(
                .configuration, "cannot load the CA certificates \(caFile ?? "of the system"): \(reason)",
                retryable: false)
        }
        SSL_set_fd(ssl, socket)
        if Self.isIPAddress(host) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
        } else {
            _ = sinks_SSL_set_tlsext_host_name(ssl, host)
            SSL_set1_host(ssl, host)
        }
        self.context = context
        self.ssl = ssl
        self.socket = socket
        self.host = host
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    func handshake(deadline: HTTPClient.Deadline) throws(SinkError) {
        while true {
            let result = SSL_connect(ssl)
            if result == 1 { return }
            try waitFor(result, deadline: deadline, "the TLS handshake with \(host)")
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, deadline: HTTPClient.Deadline) throws(SinkError) -> Int {
        while true {
            let written = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
            if written > 0 { return Int(written) }
            try waitFor(written, deadline: deadline, "sending the request")
        }
    }

    /// Bytes read into `buffer`; 0 once the receiver has closed the connection.
    func read(_ buffer: UnsafeMutableRawBufferPointer, deadline: HTTPClient.Deadline) throws(SinkError) -> Int {
        while true {
            let count = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
            if count > 0 { return Int(count) }
            let error = SSL_get_error(ssl, count)
            // A receiver that closes without close_notify still answered: HTTP has the length.
            if error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && count == 0) { return 0 }
            try waitFor(count, deadline: deadline, "reading the response")
        }
    }

    /// After a call that did not complete: waits for what OpenSSL wants, or throws why it failed.
    private func waitFor(_ result: Int32, deadline: HTTPClient.Deadline, _ action: String) throws(SinkError) {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: try HTTPClient.wait(socket, for: Int16(POLLIN), deadline: deadline, action)
        case SSL_ERROR_WANT_WRITE: try HTTPClient.wait(socket, for: Int16(POLLOUT), deadline: deadline, action)
        default:
            let verify = SSL_get_verify_result(ssl)
            if verify != Int(X509_V_OK) {
                throw SinkError(
                    .refused,
                    "\(host)'s certificate does not verify: \(String(cString: X509_verify_cert_error_string(verify))); give the sink the CA that signed it as ca_file",
                    retryable: false)
            }
            throw SinkError(.connection, "\(action): \(Self.lastError())")
        }
    }

    private static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return String(cString: strerror(errno)) }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        ERR_clear_error()
        let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
