// The key file as a running service sees it: read again whenever it changes
// on disk, so that `popsink-pg rotate-key` takes effect in a running `serve`
// without a restart. A stat per use is cheap next to what uses it (a state
// store write, which fsyncs).

import Foundation
import Synchronization

/// The keys of one key file, reloaded when the file is replaced.
public final class SecretKeyring: Sendable {
    public let path: String
    private let loaded: Mutex<(stamp: Stamp, box: SecretBox)>

    /// What identifies one version of the file: a replacement is a new inode.
    struct Stamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int
        var modifiedNanoseconds: Int
    }

    /// The key file at `path`, created with a new key when `create` and it does not exist.
    public init(path: String, create: Bool) throws(SecretError) {
        self.path = path
        let box = create ? try SecretKeyFile.loadOrCreateBox(path: path) : try SecretKeyFile.loadBox(path: path)
        loaded = Mutex((try Self.stamp(path), box))
    }

    /// A keyring that never reads a file (tests, and callers that hold the keys already).
    public init(box: SecretBox) {
        path = ""
        loaded = Mutex((Stamp(device: 0, inode: 0, size: 0, modified: 0, modifiedNanoseconds: 0), box))
    }

    /// The keys as the file holds them now.
    public func box() throws(SecretError) -> SecretBox {
        guard !path.isEmpty else { return loaded.withLock { $0.box } }
        let stamp = try Self.stamp(path)
        if let box = loaded.withLock({ $0.stamp == stamp ? $0.box : nil }) { return box }
        let box = try SecretKeyFile.loadBox(path: path)
        loaded.withLock { $0 = (stamp, box) }
        return box
    }

    static func stamp(_ path: String) throws(SecretError) -> Stamp {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretError("cannot read the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        return Stamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int(info.st_mtim.tv_sec), modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
    }
}
