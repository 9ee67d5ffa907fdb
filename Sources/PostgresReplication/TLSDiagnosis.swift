// Why libpq refused a server's certificate.
//
// libpq 15 reports every failed chain verification as "certificate verify
// failed", without OpenSSL's reason, so "expired", "unknown CA" and "revoked"
// look alike. After such a refusal one more TLS session is opened to the same
// server (SSLRequest, then a handshake that verifies against the same root
// certificates and CRL) and OpenSSL's verification result names the cause.
// The host name check is left to libpq, whose message already names it.

import CLibPQ
import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

enum TLSDiagnosis {
    /// Where and against what libpq verified, read from the failed connection (`PQconninfo`).
    struct Target {
        var address: String
        var serverName: String
        var port: String
        var rootCertificate: String
        var revocationList: String?
    }

    /// OpenSSL's reason for refusing the server's certificate chain, nil when
    /// the chain verifies or the server cannot be reached again.
    static func chainFailure(_ target: Target) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target.address, target.port, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return nil }

        // SSLRequest: length 8, code 80877103 (protocol-flow.html#PROTOCOL-FLOW-SSL).
        let request: [UInt8] = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var answer: UInt8 = 0
        guard recv(fd, &answer, 1, 0) == 1, answer == UInt8(ascii: "S") else { return nil }

        guard let context = SSL_CTX_new(TLS_client_method()) else { return nil }
        defer { SSL_CTX_free(context) }
        // Verification runs and records its result; the handshake goes on so it can be read.
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        guard SSL_CTX_load_verify_locations(context, target.rootCertificate, nil) == 1 else { return nil }
        if let crl = target.revocationList, let store = SSL_CTX_get_cert_store(context),
            X509_STORE_load_locations(store, crl, nil) == 1
        {
            X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
        }
        ERR_clear_error()
        guard let ssl = SSL_new(context) else { return nil }
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, fd)
        if inet_addr(target.serverName) == INADDR_NONE { _ = popsink_SSL_set_tlsext_host_name(ssl, target.serverName) }
        guard SSL_connect(ssl) == 1 else {
            ERR_clear_error()
            return nil
        }
        let result = SSL_get_verify_result(ssl)
        SSL_shutdown(ssl)
        guard result != X509_V_OK else { return nil }
        return String(cString: X509_verify_cert_error_string(result))
    }

    /// The target of a connection libpq refused, from the options it used.
    static func target(of connection: OpaquePointer) -> Target? {
        let values = PostgresConnection.options(of: connection)
        // With several hosts the first one's answer stands for all.
        func first(_ key: String) -> String? {
            values[key].flatMap { $0.split(separator: ",").first.map(String.init) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let host = first("host") ?? first("hostaddr") else { return nil }
        var root = values["sslrootcert"] ?? ""
        if root.isEmpty, let home = getenv("HOME") { root = String(cString: home) + "/.postgresql/root.crt" }
        return Target(
            address: first("hostaddr") ?? host, serverName: host, port: first("port") ?? "5432",
            rootCertificate: root, revocationList: values["sslcrl"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
