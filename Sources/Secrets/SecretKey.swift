// The key that encrypts secrets at rest, and the file that holds it.
//
// The file is 32 random bytes, base64, on one line, readable by the owner
// only (0600): a key anyone else on the machine can read protects nothing, so a
// wider mode is refused like ssh refuses a wide private key. The key id is
// derived from the key (the first 8 bytes of its SHA-256, hex), so a
// ciphertext names the key that sealed it without the file having to.

import COpenSSL
import Foundation

/// An AES-256 key with its id.
public struct SecretKey: Sendable, Equatable {
    /// 16 hex digits naming the key in every ciphertext it seals.
    public let id: String
    let bytes: [UInt8]

    public static let length = 32

    public init(bytes: [UInt8]) throws(SecretError) {
        guard bytes.count == Self.length else {
            throw SecretError("a secret key is \(Self.length) bytes, this one is \(bytes.count)")
        }
        self.bytes = bytes
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_Digest(bytes, bytes.count, &digest, &length, EVP_sha256(), nil)
        id = digest.prefix(8).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// A new key from OpenSSL's CSPRNG.
    public static func generate() throws(SecretError) -> SecretKey {
        var bytes = [UInt8](repeating: 0, count: length)
        guard RAND_bytes(&bytes, Int32(length)) == 1 else { throw SecretError("the system's random generator failed") }
        return try SecretKey(bytes: bytes)
    }
}

/// Reading and creating key files.
public enum SecretKeyFile {
    /// The key in `path`, created (0600, never overwriting) when the file does not exist.
    public static func loadOrCreate(path: String) throws(SecretError) -> SecretKey {
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        let key = try SecretKey.generate()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            // Another process made it first: use theirs.
            if errno == EEXIST { return try load(path: path) }
            throw SecretError("cannot create the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        let line = Array((Data(key.bytes).base64EncodedString() + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == line.count, synced else {
            unlink(path)
            throw SecretError("cannot write the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }

    /// The key in `path`, refused when others may read it.
    public static func load(path: String) throws(SecretError) -> SecretKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretError("cannot read the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw SecretError(
                "the secret key file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))): "
                    + "run chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8),
            let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw SecretError("the secret key file \(path) does not hold a base64 key on its first line")
        }
        return try SecretKey(bytes: [UInt8](bytes))
    }
}

/// What went wrong with a key or a ciphertext, in words for the operator.
public struct SecretError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
