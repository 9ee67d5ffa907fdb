// Certificates and keys that exist as files only while libpq opens a
// connection.
//
// libpq takes `sslrootcert`, `sslcert` and `sslkey` only as paths, and reads
// them once, during the TLS handshake inside `PQconnectdbParams`: the root
// certificate into the verify store, the certificate and key into the `SSL`
// object. Nothing reads them again for the life of the connection (Postgres
// and libpq refuse TLS renegotiation), so a key given as PEM is written just
// before a connection opens and unlinked as soon as the attempt ends, whether
// it connected or not. Each attempt writes its own copy (`mkstemp`, 0600), so
// connections opening at once for one source never remove each other's file.

#if canImport(Glibc)
    import Glibc
#endif

/// PEM material for one libpq file keyword, written only while a connection opens.
public struct ConnectionFile: Sendable, Equatable {
    /// `sslrootcert`, `sslcert` or `sslkey`.
    public var keyword: String
    /// An owner-only directory that holds the copy while the connection opens.
    public var directory: String
    /// The start of the copy's file name (`client.key`): a suffix makes it unique.
    public var name: String
    public var contents: [UInt8]

    public init(keyword: String, directory: String, name: String, contents: [UInt8]) {
        self.keyword = keyword
        self.directory = directory
        self.name = name
        self.contents = contents
    }

    /// Writes an owner-only copy and returns its path.
    func write() throws(PostgresError) -> String {
        var template = Array("\(directory)/\(name).XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure(path: "\(directory)/\(name)", errno) }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var offset = 0
        while offset < contents.count {
            let written = contents[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let code = errno
                close(fd)
                unlink(path)
                throw failure(path: path, code)
            }
            offset += written
        }
        close(fd)
        return path
    }

    private func failure(path: String, _ code: Int32) -> PostgresError {
        PostgresError(
            kind: .connection, operation: "writing \(keyword) for libpq to \(path)",
            message: String(cString: strerror(code)), hint: "Check that the data directory is writable and not full.")
    }
}
