// Retention: deleting old events never lets a sequence be reused, and the
// cut-off helpers pick whole groups by age and by size.

import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct RetentionTests {
    @Test func deletingEventsKeepsSequencesIncreasing() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            do {
                let writer = try EventStoreWriter(path: path)
                try commitTransactions(writer, from: 0x1000, count: 5)
                #expect(try writer.deleteEvents(upTo: 3) == 3)
                // Clamped to what is committed: everything goes, the counter stays.
                #expect(try writer.deleteEvents(upTo: 1_000) == 2)
                #expect(try writer.deleteEvents(upTo: 1_000) == 0)
                writer.close()
            }
            let writer = try EventStoreWriter(path: path)
            #expect(writer.lastSequence == 5)
            try commitTransactions(writer, from: 0x9000, count: 2)
            let reader = try EventStoreReader(path: path)
            #expect(try reader.events(after: 0, limit: 100).map(\.sequence) == [6, 7])
            #expect(try reader.firstSequence() == 6)
            #expect(try reader.lastSequence() == 7)
            #expect(try reader.sequence(ofEventID: "0/1000:0") == nil)
        }
    }

    @Test func cutoffsByAgeAndSize() throws {
        try withTemporaryDirectory { directory in
            let writer = try EventStoreWriter(path: directory + "/events.db")
            try commitTransactions(writer, from: 0x1000, count: 4)  // seq 1...4
            let between = Int64(Date().timeIntervalSince1970 * 1_000_000)
            Thread.sleep(forTimeInterval: 0.002)
            try commitTransactions(writer, from: 0x9000, count: 3)  // seq 5...7

            #expect(try writer.retentionCutoff(committedBefore: 0) == nil)
            #expect(try writer.retentionCutoff(committedBefore: between) == 4)
            #expect(try writer.retentionCutoff(committedBefore: .max) == 7)

            let newestGroupBytes = Int64(body(LSN(0x9000), 0).count * 3)
            #expect(try writer.retentionCutoff(keepingAtMostBytes: .max) == nil)
            #expect(try writer.retentionCutoff(keepingAtMostBytes: newestGroupBytes) == 4)
            #expect(try writer.retentionCutoff(keepingAtMostBytes: newestGroupBytes - 1) == 7)
            #expect(try writer.databaseBytes() > 0)

            let groupOpen = #expect(throws: EventStoreError.self) {
                try writer.beginGroup()
                try writer.deleteEvents(upTo: 1)
            }
            #expect(groupOpen?.kind == .misuse)
        }
    }
}
