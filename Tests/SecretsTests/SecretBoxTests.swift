// AES-256-GCM sealing: round trips, tampering, rotation, and the key file's
// creation and mode.

import Foundation
import Testing

@testable import Secrets

@Suite struct SecretBoxTests {
    /// The GCM specification's test case 16 (AES-256, 96-bit IV, additional data).
    @Test func aes256GCMKnownAnswer() throws {
        func hex(_ text: String) -> [UInt8] {
            stride(from: 0, to: text.count, by: 2).map {
                UInt8(text.dropFirst($0).prefix(2), radix: 16)!
            }
        }
        let key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
        let nonce = hex("cafebabefacedbaddecaf888")
        let plaintext = hex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        )
        let additional = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let sealed = try SecretBox.crypt(
            encrypt: true, key: key, nonce: nonce, input: plaintext, additional: additional, tag: nil)
        #expect(
            sealed.output
                == hex(
                    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                ))
        #expect(sealed.tag == hex("76fc6ece0f4e1768cddf8853bb2d551b"))
        let opened = try SecretBox.crypt(
            encrypt: false, key: key, nonce: nonce, input: sealed.output, additional: additional, tag: sealed.tag)
        #expect(opened.output == plaintext)
    }

    @Test func sealThenOpenRoundTripsAndNeverRepeatsACiphertext() throws {
        let box = SecretBox(current: try SecretKey.generate())
        for secret in ["", "p", "pässwörd ✓", String(repeating: "x", count: 10_000)] {
            let sealed = try box.seal(secret, context: "source/s/password")
            #expect(SecretBox.isSealed(sealed) && SecretBox.keyID(of: sealed) == box.current.id)
            #expect(!sealed.contains(secret) || secret.isEmpty || secret == "p")
            #expect(try box.open(sealed, context: "source/s/password") == secret)
        }
        let first = try box.seal("same", context: "c")
        let second = try box.seal("same", context: "c")
        #expect(first != second)
    }

    @Test func aChangedMovedOrRelabelledCiphertextDoesNotOpen() throws {
        let box = SecretBox(current: try SecretKey.generate())
        let sealed = try box.seal("hunter2", context: "source/a/password")
        #expect(throws: SecretError.self) { try box.open(sealed, context: "source/b/password") }

        var bytes = Array(sealed.utf8)
        let index = bytes.count - 5
        bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SecretError.self) {
            try box.open(String(decoding: bytes, as: UTF8.self), context: "source/a/password")
        }

        let other = SecretBox(current: try SecretKey.generate())
        let relabelled = sealed.replacingOccurrences(of: box.current.id, with: other.current.id)
        #expect(throws: SecretError.self) { try other.open(relabelled, context: "source/a/password") }
        #expect(throws: SecretError.self) { try box.open("enc:v1:\(box.current.id):AAAA", context: "x") }
        #expect(throws: SecretError.self) { try box.open("plain text", context: "x") }
    }

    @Test func afterARotationOldSecretsOpenAndAreFoundForResealing() throws {
        let old = try SecretKey.generate()
        let sealedUnderOld = try SecretBox(current: old).seal("s3cret", context: "c")
        let new = try SecretKey.generate()
        let rotated = SecretBox(current: new, previous: [old])
        #expect(try rotated.open(sealedUnderOld, context: "c") == "s3cret")
        #expect(rotated.needsResealing(sealedUnderOld))
        let resealed = try rotated.seal(try rotated.open(sealedUnderOld, context: "c"), context: "c")
        #expect(!rotated.needsResealing(resealed))
        #expect(rotated.needsResealing("a plaintext from before encryption"))

        let withoutOld = SecretBox(current: new)
        #expect { try withoutOld.open(sealedUnderOld, context: "c") } throws: { "\($0)".contains(old.id) }
    }

    @Test func theKeyFileIsCreatedOwnerOnlyOnceAndRefusedWhenOthersCanReadIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("secret.key").path
        let created = try SecretKeyFile.loadOrCreate(path: path)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode & 0o777 == 0o600)
        #expect(try SecretKeyFile.loadOrCreate(path: path) == created)
        #expect(created.id.count == 16)

        chmod(path, 0o644)
        #expect { try SecretKeyFile.load(path: path) } throws: { "\($0)".contains("chmod 600") }

        let short = directory.appendingPathComponent("short.key").path
        FileManager.default.createFile(
            atPath: short, contents: Data(Data(count: 16).base64EncodedString().utf8),
            attributes: [.posixPermissions: 0o600])
        #expect { try SecretKeyFile.load(path: short) } throws: { "\($0)".contains("32 bytes") }
    }
}
