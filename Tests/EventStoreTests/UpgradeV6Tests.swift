// Opening a store written by the version before event templates (schema 6,
// events in blocks): Fixtures/store-v6.sqlite was written by that version's
// `popsink-pg run` against a real Postgres (a schema event, inserts, updates,
// a delete and a 1,000-row streamed transaction, 1,027 events), and
// Fixtures/store-v6.jsonl is what its `popsink-pg events` printed. It is read
// as it is, migrated to schema 7 and continued with a moved streamed
// transaction, nothing lost or repeated.

import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct UpgradeV6Tests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test func aSchemaSixStoreIsReadAndContinuedExactly() throws {
        let lines = try String(contentsOf: Self.fixtures.appendingPathComponent("store-v6.jsonl"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(lines.count == 1027)
        try withTemporaryDirectory { directory in
            let path = directory + "/events.sqlite"
            try FileManager.default.copyItem(
                atPath: Self.fixtures.appendingPathComponent("store-v6.sqlite").path, toPath: path)

            let early = try EventStoreReader(path: path)
            let before = try early.events(after: 0, limit: 10_000)
            #expect(before.map { String(decoding: $0.body, as: UTF8.self) } == lines)
            #expect(before.map(\.sequence) == Array(1...1027))

            let writer = try EventStoreWriter(path: path)
            #expect(writer.lastSequence == 1027)
            let checkpoint = try #require(writer.checkpoint)
            let commitLSN = LSN(checkpoint.flushLSN.rawValue + 0x1000)
            try writer.beginGroup()
            for n in 0..<1500 {
                try writer.stageEvent(
                    transaction: 900, subtransaction: 900, template: StagedEventsTests.template(n),
                    gaps: StagedEventsTests.gaps)
            }
            try writer.commitGroup(checkpoint: checkpoint)
            try writer.beginGroup()
            #expect(
                try writer.commitStagedEvents(
                    transaction: 900, completion: StagedEventsTests.completion(commitLSN.rawValue))
                    == 1500)
            try writer.discardStaged(transaction: 900)
            try writer.commitGroup(
                checkpoint: Checkpoint(lastCommitLSN: commitLSN, flushLSN: LSN(commitLSN.rawValue + 0x28)))
            #expect(writer.lastSequence == 2527)

            let added = (0..<1500).map {
                StoredEvent(
                    sequence: 1028 + Int64($0), commitLSN: commitLSN, ordinal: Int32($0),
                    body: StagedEventsTests.completed($0, ordinal: $0, lsn: commitLSN.rawValue))
            }
            for reader in [early, try EventStoreReader(path: path)] {
                #expect(try reader.events(after: 0, limit: 10_000) == before + added)
                #expect(try reader.events(after: 1020, limit: 10) == Array((before + added)[1020..<1030]))
                #expect(
                    try reader.sequence(of: EventID(commitLSN: before[600].commitLSN, ordinal: before[600].ordinal))
                        == 601)
                #expect(try reader.sequence(of: EventID(commitLSN: commitLSN, ordinal: 777)) == 1028 + 777)
            }
            writer.close()
        }
    }
}
