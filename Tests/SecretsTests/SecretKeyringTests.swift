// The key file with several keys (current first) and the keyring that reads
// it again when it is replaced, as `rotate-key` does under a running serve.

import Foundation
import Testing

@testable import Secrets

@Suite struct SecretKeyringTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyring-\(UUID().uuidString)")

    @Test func aReplacedKeyFileIsReadAgainAndOpensWhatEarlierKeysSealed() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("secret.key").path
        let keyring = try SecretKeyring(path: path, create: true)
        let first = try keyring.box()
        let sealed = try first.seal("hunter2", context: "c")

        let second = try SecretKey.generate()
        try SecretKeyFile.replace(path: path, with: [second, first.current])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let reloaded = try keyring.box()
        #expect(reloaded.current == second && reloaded.previous == [first.current])
        #expect(reloaded.needsResealing(sealed))
        #expect(try reloaded.open(sealed, context: "c") == "hunter2")

        try SecretKeyFile.replace(path: path, with: [second])
        #expect(throws: SecretError.self) { try keyring.box().open(sealed, context: "c") }
    }

    @Test func aDamagedLineIsNamed() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("secret.key").path
        let good = Data(try SecretKey.generate().bytes).base64EncodedString()
        FileManager.default.createFile(
            atPath: path, contents: Data("\(good)\nnot base64!\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect { try SecretKeyFile.loadBox(path: path) } throws: { "\($0)".contains("line 2") }
        #expect(throws: SecretError.self) {
            try SecretKeyring(path: directory.appendingPathComponent("none").path, create: false)
        }
    }
}
