// Helpers shared by the event store tests: a real temporary directory per
// test (removed afterwards), LSNs and bodies that are easy to recognise.

import EventStore
import Foundation
import PostgresWire

/// Runs `body` with a fresh directory under the system temporary directory and
/// removes it afterwards, whatever happens.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("eventstore-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(directory)
}

/// `withTemporaryDirectory` for async tests.
func withTemporaryDirectoryAsync<R>(_ body: (String) async throws -> R) async throws -> R {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("eventstore-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// A JSON-looking body that names its event.
func body(_ lsn: LSN, _ ordinal: Int32) -> [UInt8] {
    Array(#"{"id":"\#(lsn):\#(ordinal)","op":"c"}"#.utf8)
}

/// Commits one group of `count` events, one transaction per event, starting at
/// `firstLSN` and stepping by 0x100; returns the commit LSN of the last one.
@discardableResult
func commitTransactions(_ writer: EventStoreWriter, from firstLSN: UInt64, count: Int) throws -> LSN {
    try writer.beginGroup()
    var lsn = LSN(firstLSN)
    for index in 0..<count {
        lsn = LSN(firstLSN + UInt64(index) * 0x100)
        try writer.append(commitLSN: lsn, ordinal: 0, body: body(lsn, 0))
    }
    try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: lsn, flushLSN: LSN(lsn.rawValue + 0x28)))
    return lsn
}
