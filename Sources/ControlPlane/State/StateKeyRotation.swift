// `popsink-pg rotate-key`: every secret in the state store sealed again under
// a new key, while `serve` may be running.
//
// The order makes every moment readable, whatever is interrupted:
// 1. the key file is replaced by [new, old…]: from now on every reader opens
//    both, and a running `serve` (which reads the file inside each write
//    transaction) seals under the new key;
// 2. one transaction seals again, under the new key, every secret that is
//    not: the store is all new-key at its commit, or all as before;
// 3. the key file is replaced by [new]: nothing sealed under an old key is
//    left, since a writer that began before step 1 finished before step 2.
// A crash between 2 and 3 leaves a file with both keys, which opens
// everything; running rotate-key again finishes the job.

import EventStore
import Foundation
import Secrets

/// Re-sealing the state store's secrets under a new key.
public enum StateKeyRotation {
    public struct Outcome: Sendable, Equatable {
        public let previousKeyID: String
        public let newKeyID: String
        /// Records whose secrets were sealed again.
        public let resealedRecords: Int
    }

    /// Rotates the key in `keyFile` (which must exist) for the store at `storePath`.
    public static func rotate(storePath: String, keyFile: String) throws -> Outcome {
        guard FileManager.default.fileExists(atPath: storePath) else {
            throw SecretError("there is no state store at \(storePath): give the data directory that serve uses")
        }
        let old = try SecretKeyFile.loadBox(path: keyFile)
        let new = try SecretKey.generate()
        let retired = [old.current] + old.previous
        try SecretKeyFile.replace(path: keyFile, with: [new] + retired)
        let box = SecretBox(current: new, previous: retired)

        let sqlite = try SQLiteStateStore.open(storePath)
        defer { sqlite.close() }
        let resealed = try SQLiteStateStore.inTransaction(sqlite, "seal the state store's secrets under the new key") {
            try reseal(RecordTable<SourceRecord>.self, box: box, on: sqlite)
                + reseal(RecordTable<PipelineRecord>.self, box: box, on: sqlite)
        }
        try SecretKeyFile.replace(path: keyFile, with: [new])
        try sqlite.execute("VACUUM", operation: "rewrite the state store after the key rotation")
        return Outcome(previousKeyID: old.current.id, newKeyID: new.id, resealedRecords: resealed)
    }

    private static func reseal<Record: StoredRecord>(
        _ table: RecordTable<Record>.Type, box: SecretBox, on sqlite: SQLiteConnection
    ) throws -> Int {
        var count = 0
        for stored in try table.stored(on: sqlite) {
            let opened = try stored.opened(with: box)
            guard opened.needsResealing else { continue }
            try table.write(opened.record.sealed(with: box), on: sqlite)
            count += 1
        }
        return count
    }
}
