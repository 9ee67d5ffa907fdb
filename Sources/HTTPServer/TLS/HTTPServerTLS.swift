// The HTTPS settings of a server: a certificate chain and its key, as PEM
// files, loaded into an OpenSSL context. `reload()` reads the files again (on
// SIGHUP, after a certificate renewal); connections accepted afterwards use
// the new context, those already open keep theirs.

import COpenSSL
import Synchronization

/// A certificate and key to serve HTTPS with (TLS 1.2 and 1.3).
public final class HTTPServerTLS: Sendable {
    public let certificateFile: String
    public let keyFile: String
    private let context: Mutex<TLSContext>

    /// Loads the PEM files; throws, saying which file and why, when they do not make a usable pair.
    public init(certificateFile: String, keyFile: String) throws(HTTPServerError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        context = Mutex(try TLSContext(certificateFile: certificateFile, keyFile: keyFile))
    }

    /// Reads the files again; on failure the current certificate stays in use.
    public func reload() throws(HTTPServerError) {
        let fresh = try TLSContext(certificateFile: certificateFile, keyFile: keyFile)
        context.withLock { $0 = fresh }
    }

    /// The context new connections are accepted with.
    var current: TLSContext { context.withLock { $0 } }
}

/// One `SSL_CTX`, freed when the last connection using it has gone.
final class TLSContext: @unchecked Sendable {
    // SSL_CTX is safe to share across threads once configured; it is only read from here on.
    let handle: OpaquePointer

    init(certificateFile: String, keyFile: String) throws(HTTPServerError) {
        ERR_clear_error()
        guard let handle = SSL_CTX_new(TLS_server_method()) else {
            throw Self.failure("OpenSSL could not create a TLS context", remediation: "Check the OpenSSL installation.")
        }
        guard popsink_SSL_CTX_configure_server(handle) == 1 else {
            SSL_CTX_free(handle)
            throw Self.failure("OpenSSL refused the TLS settings", remediation: "Check the OpenSSL installation.")
        }
        guard SSL_CTX_use_certificate_chain_file(handle, certificateFile) == 1 else {
            SSL_CTX_free(handle)
            throw Self.failure(
                "cannot use the TLS certificate \(certificateFile)",
                remediation: "Give a readable PEM file with the server certificate first, then its intermediates.")
        }
        // An encrypted key would make OpenSSL ask for its passphrase on the terminal: fail instead.
        SSL_CTX_set_default_passwd_cb(handle) { _, _, _, _ in 0 }
        // OpenSSL checks the key against the certificate here already (X509_R_KEY_VALUES_MISMATCH).
        let keyLoaded = SSL_CTX_use_PrivateKey_file(handle, keyFile, SSL_FILETYPE_PEM) == 1
        guard keyLoaded, SSL_CTX_check_private_key(handle) == 1 else {
            SSL_CTX_free(handle)
            let reason = TLSSession.openSSLReason()
            if !keyLoaded && !reason.contains("key values mismatch") {
                throw HTTPServerError(
                    .tlsFailed, "cannot use the TLS key \(keyFile)\(reason)",
                    remediation: "Give a readable, unencrypted PEM private key.")
            }
            throw HTTPServerError(
                .tlsFailed, "the TLS key \(keyFile) does not belong to the certificate \(certificateFile)\(reason)",
                remediation: "Give the key the certificate was issued for.")
        }
        self.handle = handle
    }

    deinit { SSL_CTX_free(handle) }

    private static func failure(_ message: String, remediation: String) -> HTTPServerError {
        HTTPServerError(.tlsFailed, message + TLSSession.openSSLReason(), remediation: remediation)
    }
}
