// Source passwords in the state store are sealed with AES-256-GCM: the raw
// bytes of the data directory never hold them (as is, hex or base64), a store
// written in plaintext by an earlier version is sealed when it opens, a wrong
// key is a clear error, and a key rotation while the store is open re-seals
// everything and retires the old key.

import ControlPlane
import EventStore
import Foundation
import Secrets
import Testing

@Suite struct SecretsAtRestTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
    var storePath: String { directory.appendingPathComponent("state.sqlite").path }
    var keyPath: String { directory.appendingPathComponent("secret.key").path }

    func source(_ id: String, password: String) -> SourceRecord {
        let now = Timestamps.now()
        return SourceRecord(
            id: id, host: "127.0.0.1", database: "app", user: "u", password: password, createdAt: now, updatedAt: now)
    }

    static func canary() -> String { "canary-\(UUID().uuidString)" }

    /// Every file in the directory, whole (the store, its journal or WAL if any, the key file).
    func rawBytes() throws -> [(name: String, bytes: Data)] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).map {
            ($0, try Data(contentsOf: directory.appendingPathComponent($0)))
        }
    }

    /// The canary as is, in hex and in base64, found in no file of the directory.
    func expectNowhere(_ canary: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let forms = [
            Data(canary.utf8), Data(canary.utf8.map { String(format: "%02x", $0) }.joined().utf8),
            Data(Data(canary.utf8).base64EncodedString().utf8),
        ]
        for (name, bytes) in try rawBytes() {
            for form in forms {
                #expect(bytes.range(of: form) == nil, "\(name) holds the canary", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func passwordsAreSealedOnDiskAndOpenInMemory() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let canary = Self.canary()
        do {
            let store = try SQLiteStateStore(path: storePath)
            try await store.save(source("src1", password: canary))
            // A source saved and deleted leaves nothing behind either.
            let deleted = Self.canary()
            try await store.save(source("gone", password: deleted))
            #expect(try await store.deleteSource(id: "gone"))
            #expect(try await store.source(id: "src1")?.password == canary)
            try expectNowhere(canary)
            try expectNowhere(deleted)
        }
        let reopened = try SQLiteStateStore(path: storePath)
        #expect(try await reopened.source(id: "src1")?.password == canary)
        let stored = try storedRecordText(id: "src1")
        #expect(stored.contains("\"password\":\"enc:v1:"))
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func plaintextLeftByAnEarlierVersionIsSealedWhenTheStoreOpens() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let canary = Self.canary()
        let dropped = Self.canary()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            // The layout of version 2, passwords in the record JSON as they were written then.
            let sqlite = try SQLiteConnection(path: storePath, mode: .readWrite(create: true))
            try sqlite.execute(
                """
                CREATE TABLE records (kind TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL,
                    PRIMARY KEY (kind, id)) WITHOUT ROWID;
                PRAGMA user_version = 2;
                """, operation: "create")
            for (id, password) in [("src1", canary), ("old", dropped)] {
                let json = String(decoding: try JSONEncoder().encode(source(id, password: password)), as: UTF8.self)
                let insert = try sqlite.prepare("INSERT INTO records VALUES ('source', ?, ?)")
                insert.bind(id, at: 1)
                insert.bind(json, at: 2)
                try insert.run("insert")
                insert.finalize()
            }
            // Deleted without secure_delete: the plaintext stays in the page's free space.
            try sqlite.execute("DELETE FROM records WHERE id = 'old'", operation: "delete")
            sqlite.close()
        }
        #expect(try rawBytes().contains { $0.bytes.range(of: Data(canary.utf8)) != nil })

        let store = try SQLiteStateStore(path: storePath)
        #expect(try await store.source(id: "src1")?.password == canary)
        try expectNowhere(canary)
        try expectNowhere(dropped)
        #expect(try storedRecordText(id: "src1").contains("enc:v1:"))
    }

    @Test func aWrongKeyIsAClearErrorNotGarbage() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let store = try SQLiteStateStore(path: storePath)
            try await store.save(source("src1", password: Self.canary()))
        }
        let otherKey = directory.appendingPathComponent("other.key").path
        let other = try SecretKeyring(path: otherKey, create: true)
        #expect {
            try SQLiteStateStore(path: storePath, keyring: other)
        } throws: { error in
            let text = "\(error)"
            return text.contains("password of source src1") && text.contains("sealed with key")
                && text.contains("--secret-key-file")
        }
    }

    @Test func rotationWhileTheStoreIsOpenResealsEverythingAndRetiresTheOldKey() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let passwords = (0..<3).map { _ in Self.canary() }
        let store = try SQLiteStateStore(path: storePath)
        try await store.save(source("src0", password: passwords[0]))
        try await store.save(source("src1", password: passwords[1]))
        let oldBox = try SecretKeyFile.loadBox(path: keyPath)

        let outcome = try StateKeyRotation.rotate(storePath: storePath, keyFile: keyPath)
        #expect(outcome.previousKeyID == oldBox.current.id && outcome.newKeyID != oldBox.current.id)
        #expect(outcome.resealedRecords == 2)
        let newBox = try SecretKeyFile.loadBox(path: keyPath)
        #expect(newBox.current.id == outcome.newKeyID && newBox.previous.isEmpty)

        // The open store (a running serve) reads the replaced key file and seals under the new key.
        try await store.save(source("src2", password: passwords[2]))
        for id in ["src0", "src1", "src2"] {
            #expect(SecretBox.keyID(of: try sealedPassword(id: id)) == outcome.newKeyID)
        }
        let everything = try rawBytes().map(\.bytes).reduce(Data(), +)
        #expect(everything.range(of: Data("enc:v1:\(oldBox.current.id)".utf8)) == nil)

        let reopened = try SQLiteStateStore(path: storePath)
        #expect(try await reopened.sources().map(\.password) == passwords)
        #expect(throws: StateStoreSecretError.self) {
            try SQLiteStateStore(path: storePath, keyring: SecretKeyring(box: oldBox))
        }
    }

    @Test func aRotationInterruptedBeforeRetiringTheOldKeyLeavesEverythingReadable() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let password = Self.canary()
        do {
            let store = try SQLiteStateStore(path: storePath)
            try await store.save(source("src0", password: password))
        }
        // What step 1 of a rotation leaves: a new current key, the old one kept.
        let old = try SecretKeyFile.loadBox(path: keyPath)
        try SecretKeyFile.replace(path: keyPath, with: [try SecretKey.generate(), old.current])
        let store = try SQLiteStateStore(path: storePath)
        #expect(try await store.source(id: "src0")?.password == password)
        // Opening re-seals what was under the earlier key.
        #expect(SecretBox.keyID(of: try sealedPassword(id: "src0")) == (try SecretKeyFile.load(path: keyPath)).id)
    }

    func storedRecordText(id: String) throws -> String {
        let sqlite = try SQLiteConnection(path: storePath, mode: .readOnly)
        defer { sqlite.close() }
        let statement = try sqlite.prepare("SELECT record FROM records WHERE kind = 'source' AND id = ?")
        defer { statement.finalize() }
        statement.bind(id, at: 1)
        guard try statement.step("read") else { return "" }
        return statement.text(0) ?? ""
    }

    func sealedPassword(id: String) throws -> String {
        let record = try JSONDecoder().decode(SourceRecord.self, from: Data(try storedRecordText(id: id).utf8))
        return record.password ?? ""
    }
}
