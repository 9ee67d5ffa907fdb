// Secrets at rest: AES-256-GCM with OpenSSL's libcrypto.
//
// A sealed secret is one ASCII string, `enc:v1:<key id>:<base64(nonce ‖
// ciphertext ‖ tag)>`, so it fits any text column and says which key opens
// it: after a key rotation the box holds the new key and the previous ones,
// opens both, and `needsResealing` finds what to re-encrypt. The header and a
// caller-given context (e.g. `source/src_1/password`) are authenticated as
// additional data, so a ciphertext moved to another record or relabelled
// with another key id does not open. Nonces are 96 random bits per seal: with
// at most millions of secrets per key the collision bound (2^-32 at 2^32
// seals) is far away.

import COpenSSL
import Foundation

/// Seals and opens secrets under a current key and earlier ones.
public struct SecretBox: Sendable {
    public let current: SecretKey
    /// Earlier keys, kept to open what they sealed until it is sealed again.
    public let previous: [SecretKey]
    private let keys: [String: SecretKey]

    static let prefix = "enc:v1:"
    static let nonceLength = 12
    static let tagLength = 16

    public init(current: SecretKey, previous: [SecretKey] = []) {
        self.current = current
        self.previous = previous.filter { $0.id != current.id }
        var keys = Dictionary(previous.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        keys[current.id] = current
        self.keys = keys
    }

    /// Whether `text` is a sealed secret (rather than a plaintext to migrate).
    public static func isSealed(_ text: String) -> Bool { text.hasPrefix(prefix) }

    /// The id of the key that sealed `text`, nil when it is not sealed.
    public static func keyID(of text: String) -> String? {
        guard isSealed(text) else { return nil }
        let fields = text.dropFirst(prefix.count).split(separator: ":", maxSplits: 1)
        return fields.count == 2 ? String(fields[0]) : nil
    }

    /// Sealed under an earlier key: to be opened and sealed again after a rotation.
    public func needsResealing(_ text: String) -> Bool { Self.keyID(of: text).map { $0 != current.id } ?? true }

    public func seal(_ plaintext: String, context: String) throws(SecretError) -> String {
        var nonce = [UInt8](repeating: 0, count: Self.nonceLength)
        guard RAND_bytes(&nonce, Int32(nonce.count)) == 1 else {
            throw SecretError("the system's random generator failed")
        }
        let header = Self.prefix + current.id + ":"
        let sealed = try Self.crypt(
            encrypt: true, key: current.bytes, nonce: nonce, input: Array(plaintext.utf8),
            additional: Array((header + context).utf8), tag: nil)
        return header + Data(nonce + sealed.output + sealed.tag).base64EncodedString()
    }

    public func open(_ text: String, context: String) throws(SecretError) -> String {
        guard let id = Self.keyID(of: text) else { throw SecretError("the value is not a sealed secret") }
        guard let key = keys[id] else {
            throw SecretError(
                "the secret was sealed with key \(id), which is not loaded (the current key is \(current.id)): "
                    + "give the earlier key file too, or register the secret again")
        }
        let header = Self.prefix + id + ":"
        guard let blob = Data(base64Encoded: String(text.dropFirst(header.count))).map([UInt8].init),
            blob.count >= Self.nonceLength + Self.tagLength
        else { throw SecretError("the sealed secret is damaged (not base64, or too short)") }
        let nonce = Array(blob.prefix(Self.nonceLength))
        let tag = Array(blob.suffix(Self.tagLength))
        let body = Array(blob.dropFirst(Self.nonceLength).dropLast(Self.tagLength))
        let opened = try Self.crypt(
            encrypt: false, key: key.bytes, nonce: nonce, input: body, additional: Array((header + context).utf8),
            tag: tag)
        return String(decoding: opened.output, as: UTF8.self)
    }

    /// One AES-256-GCM operation (EVP interface); on decryption a tag that does not match throws.
    static func crypt(
        encrypt: Bool, key: [UInt8], nonce: [UInt8], input: [UInt8], additional: [UInt8], tag: [UInt8]?
    ) throws(SecretError) -> (output: [UInt8], tag: [UInt8]) {
        guard let context = EVP_CIPHER_CTX_new() else {
            throw SecretError("OpenSSL could not allocate a cipher context")
        }
        defer { EVP_CIPHER_CTX_free(context) }
        let initialize = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        let update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        guard initialize(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
            EVP_CIPHER_CTX_ctrl(context, popsink_EVP_CTRL_GCM_SET_IVLEN(), Int32(nonce.count), nil) == 1,
            initialize(context, nil, nil, key, nonce) == 1
        else { throw SecretError("OpenSSL refused the AES-256-GCM key or nonce") }
        var length: Int32 = 0
        guard additional.isEmpty || update(context, nil, &length, additional, Int32(additional.count)) == 1 else {
            throw SecretError("OpenSSL refused the additional data")
        }
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var produced: Int32 = 0
        if !input.isEmpty {
            guard update(context, &output, &produced, input, Int32(input.count)) == 1 else {
                throw SecretError("OpenSSL could not \(encrypt ? "encrypt" : "decrypt") the secret")
            }
        }
        if var tag {
            guard EVP_CIPHER_CTX_ctrl(context, popsink_EVP_CTRL_GCM_SET_TAG(), Int32(tag.count), &tag) == 1 else {
                throw SecretError("OpenSSL refused the authentication tag")
            }
        }
        var final: Int32 = 0
        let finished = output.withUnsafeMutableBufferPointer { buffer in
            (encrypt ? EVP_EncryptFinal_ex : EVP_DecryptFinal_ex)(context, buffer.baseAddress! + Int(produced), &final)
        }
        guard finished == 1 else {
            throw SecretError(
                "the sealed secret does not authenticate: it was changed, moved to another record, or sealed with another key"
            )
        }
        output.removeSubrange(Int(produced + final)...)
        var outTag = [UInt8](repeating: 0, count: tagLength)
        if encrypt {
            guard EVP_CIPHER_CTX_ctrl(context, popsink_EVP_CTRL_GCM_GET_TAG(), Int32(tagLength), &outTag) == 1 else {
                throw SecretError("OpenSSL could not produce the authentication tag")
            }
        }
        return (output, outTag)
    }
}
