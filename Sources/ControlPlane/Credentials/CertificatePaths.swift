// Certificate and key paths of API sources, confined to one directory the
// operator names (`serve --certificate-dir`). A path is a file the service
// will open and hand to OpenSSL: without the confinement a token holder could
// make it read any file it may read (another service's key, a CRL the size of
// the disk). The path is resolved (symbolic links, `..`) before the check, so
// a link inside the directory cannot point out of it.

import Foundation

enum CertificatePaths {
    /// Why `path` may not be used, nil when it may.
    static func problem(with path: String, field: String, directory: String?) -> String? {
        let pemField = field.hasPrefix("options.") ? nil : "\(field)_pem"
        guard let directory else {
            return "paths are refused unless serve runs with --certificate-dir"
                + (pemField.map { "; send the PEM text as \($0) instead" } ?? "")
        }
        guard path.hasPrefix("/") else { return "must be an absolute path under \(directory)" }
        guard let resolvedDirectory = resolve(directory) else {
            return "the certificate directory \(directory) does not exist"
        }
        guard let resolved = resolve(path) else { return "must name an existing file under \(directory)" }
        guard resolved.hasPrefix(resolvedDirectory + "/") else { return "must lie under \(directory)" }
        return nil
    }

    private static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
