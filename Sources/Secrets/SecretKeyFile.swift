// The file that holds the secret keys.
//
// One key per line, 32 random bytes in base64; the first line is the current
// key, any further lines are earlier keys still needed to open what a
// rotation has not yet re-sealed. Readable by the owner only (0600): a key
// anyone else on the machine can read protects nothing, so a wider mode is
// refused like ssh refuses a wide private key. The file is only ever replaced
// whole (a new file renamed over it), so a reader sees the old keys or the
// new ones, never half a file.

import Foundation

/// Reading, creating and replacing key files.
public enum SecretKeyFile {
    /// The current key in `path`, the file created (0600, never overwriting) when it does not exist.
    public static func loadOrCreate(path: String) throws(SecretError) -> SecretKey {
        try loadOrCreateBox(path: path).current
    }

    /// The keys in `path` as a box, the file created with a new key when it does not exist.
    public static func loadOrCreateBox(path: String) throws(SecretError) -> SecretBox {
        if FileManager.default.fileExists(atPath: path) { return try loadBox(path: path) }
        let key = try SecretKey.generate()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            // Another process made it first: use theirs.
            if errno == EEXIST { return try loadBox(path: path) }
            throw SecretError("cannot create the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        do {
            try writeAll(fd, text(of: [key]), path: path)
        } catch {
            unlink(path)
            throw error
        }
        return SecretBox(current: key)
    }

    /// The current key in `path`, refused when others may read it.
    public static func load(path: String) throws(SecretError) -> SecretKey { try loadBox(path: path).current }

    /// Every key in `path`: the first line's is current, the others open what they sealed.
    public static func loadBox(path: String) throws(SecretError) -> SecretBox {
        let keys = try loadKeys(path: path)
        return SecretBox(current: keys[0], previous: Array(keys.dropFirst()))
    }

    static func loadKeys(path: String) throws(SecretError) -> [SecretKey] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretError("cannot read the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw SecretError(
                "the secret key file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))): "
                    + "run chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw SecretError("cannot read the secret key file \(path)") }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw SecretError("the secret key file \(path) is empty") }
        var keys: [SecretKey] = []
        for (number, line) in lines.enumerated() {
            guard let bytes = Data(base64Encoded: line) else {
                throw SecretError("line \(number + 1) of the secret key file \(path) is not a base64 key")
            }
            keys.append(try SecretKey(bytes: [UInt8](bytes)))
        }
        return keys
    }

    /// Replaces `path` with `keys` (the first current): a new 0600 file,
    /// synced, renamed over the old one, and the directory synced.
    public static func replace(path: String, with keys: [SecretKey]) throws(SecretError) {
        precondition(!keys.isEmpty, "a key file holds at least one key")
        let temporary = path + ".new"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SecretError("cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        do {
            try writeAll(fd, text(of: keys), path: temporary)
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SecretError("cannot replace the secret key file \(path): \(reason)")
        }
        let directory = open(
            (path as NSString).deletingLastPathComponent.isEmpty
                ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    private static func text(of keys: [SecretKey]) -> [UInt8] {
        Array(keys.map { Data($0.bytes).base64EncodedString() + "\n" }.joined().utf8)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SecretError) {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw SecretError("cannot write the secret key file \(path): \(String(cString: strerror(errno)))")
        }
    }
}
