// Certificates and keys sent as PEM through the API, as files for libpq,
// which reads `sslrootcert`, `sslcert` and `sslkey` only from paths. They are
// sealed in the state store; here they are written, owner-only, under
// `<data-dir>/credentials/<source id>/` when a connection's settings are made,
// and removed with the source. A file is replaced by rename, so a connection
// opening at that moment reads the old file or the new one, never half.

import CDC
import Foundation
import PostgresReplication

/// Where a data directory keeps the PEM files of its sources.
public struct SourceCredentialFiles: Sendable {
    public let directory: String

    public init(dataDirectory: DataDirectory) { directory = "\(dataDirectory.path)/credentials" }

    /// The source's libpq settings, with its PEM material as files.
    public func settings(for source: SourceRecord) throws -> ConnectionSettings {
        var settings = source.connectionSettings
        let files: [(keyword: String, name: String, pem: String?)] = [
            ("sslrootcert", "root.crt", source.sslrootcertPEM), ("sslcert", "client.crt", source.sslcertPEM),
            ("sslkey", "client.key", source.sslkeyPEM),
        ]
        guard files.contains(where: { $0.pem != nil }) else { return settings }
        let folder = "\(directory)/\(source.id)"
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o700)
        for file in files {
            guard let pem = file.pem else { continue }
            let path = "\(folder)/\(file.name)"
            try write(Data(pem.utf8), to: path)
            settings[file.keyword] = path
        }
        return settings
    }

    /// Removes the files of a deleted source.
    public func remove(sourceID: String) {
        try? FileManager.default.removeItem(atPath: "\(directory)/\(sourceID)")
    }

    private func write(_ data: Data, to path: String) throws {
        if FileManager.default.contents(atPath: path) == data { return }
        let temporary = "\(path).\(UUID().uuidString).new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CredentialFileError(path: temporary, errno: errno) }
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let code = errno
        close(fd)
        guard written == data.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CredentialFileError(path: path, errno: written == data.count ? errno : code)
        }
    }
}

struct CredentialFileError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String {
        "cannot write the source's certificate file \(path): \(String(cString: strerror(errno))); "
            + "check that the data directory is writable"
    }
}
