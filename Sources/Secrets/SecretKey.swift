// The key that encrypts secrets at rest (its file: SecretKeyFile.swift). The
// key id is derived from the key (the first 8 bytes of its SHA-256, hex), so a
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

/// What went wrong with a key or a ciphertext, in words for the operator.
public struct SecretError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
