// Where the key that seals the state store's secrets lives: --secret-key-file,
// else POPSINK_SECRET_KEY_FILE, else `secret.key` in the data directory
// (created with a new key on first use there). A key file named explicitly
// must exist: a mistyped path should not quietly start a new key.

import ArgumentParser
import ControlPlane
import Foundation
import Secrets

struct SecretKeyFileOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The key file that seals source passwords in the state store (0600). Default: POPSINK_SECRET_KEY_FILE, "
                + "else secret.key in the data directory, created on first start.", valueName: "path"))
    var secretKeyFile: String?

    /// The key file to use for the store at `storePath`, and whether it may be created.
    func location(storePath: String) -> (path: String, create: Bool) {
        if let secretKeyFile { return (secretKeyFile, false) }
        if let path = ProcessInfo.processInfo.environment["POPSINK_SECRET_KEY_FILE"], !path.isEmpty {
            return (path, false)
        }
        return (SQLiteStateStore.defaultKeyFile(forStore: storePath), true)
    }

    func keyring(storePath: String) throws -> SecretKeyring {
        let (path, create) = location(storePath: storePath)
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw ValidationError(
                "The secret key file \(path) does not exist: give the key file that sealed this data directory's "
                    + "secrets, or create a new one with: (umask 077; head -c 32 /dev/urandom | base64 > \(path))")
        }
        do {
            if create {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            }
            return try SecretKeyring(path: path, create: create)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
