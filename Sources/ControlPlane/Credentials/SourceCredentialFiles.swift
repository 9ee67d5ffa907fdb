// Certificates and keys sent as PEM through the API, as files for libpq,
// which reads `sslrootcert`, `sslcert` and `sslkey` only from paths. They are
// sealed in the state store; a connection writes them, owner-only, under
// `<data-dir>/credentials/<source id>/` just before libpq opens it and removes
// them once it has (`ConnectionFile`), so a key lies on disk only during a
// handshake. The folder goes with the source.

import CDC
import Foundation
import PostgresReplication

/// Where a data directory keeps the PEM files of its sources.
public struct SourceCredentialFiles: Sendable {
    public let directory: String

    public init(dataDirectory: DataDirectory) { directory = "\(dataDirectory.path)/credentials" }

    /// The source's libpq settings, with its PEM material as files written when a connection opens.
    public func settings(for source: SourceRecord) throws -> ConnectionSettings {
        var settings = source.connectionSettings
        let files: [(keyword: String, name: String, pem: String?)] = [
            ("sslrootcert", "root.crt", source.sslrootcertPEM), ("sslcert", "client.crt", source.sslcertPEM),
            ("sslkey", "client.key", source.sslkeyPEM),
        ]
        guard files.contains(where: { $0.pem != nil }) else { return settings }
        let folder = "\(directory)/\(source.id)"
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CredentialFileError(path: folder, errno: errno)
        }
        chmod(directory, 0o700)
        for file in files {
            guard let pem = file.pem else { continue }
            settings.connectionFiles.append(
                ConnectionFile(keyword: file.keyword, directory: folder, name: file.name, contents: Array(pem.utf8)))
        }
        return settings
    }

    /// Removes the files of a deleted source.
    public func remove(sourceID: String) {
        try? FileManager.default.removeItem(atPath: "\(directory)/\(sourceID)")
    }

    /// Removes every file left in the sources' folders: copies a killed process
    /// had no time to unlink, and the standing files of earlier versions. Only
    /// while no connection is opening, i.e. before pipelines resume.
    public func removeLeftovers() {
        let manager = FileManager.default
        for source in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] {
            let folder = "\(directory)/\(source)"
            for file in (try? manager.contentsOfDirectory(atPath: folder)) ?? [] {
                try? manager.removeItem(atPath: "\(folder)/\(file)")
            }
        }
    }
}

struct CredentialFileError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String {
        "cannot make the source's certificate folder \(path): \(String(cString: strerror(errno))); "
            + "check that the data directory is writable"
    }
}
