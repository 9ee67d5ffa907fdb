// Deleting old events never lets a sequence be reused, is refused inside a
// group, and marks the consumers that had not read what it deletes.

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

    @Test func deletingIsRefusedInsideAGroup() throws {
        try withTemporaryDirectory { directory in
            let writer = try EventStoreWriter(path: directory + "/events.db")
            try commitTransactions(writer, from: 0x1000, count: 4)
            #expect(try writer.databaseBytes() > 0)
            let groupOpen = #expect(throws: EventStoreError.self) {
                try writer.beginGroup()
                try writer.deleteEvents(upTo: 1)
            }
            #expect(groupOpen?.kind == .misuse)
        }
    }

    @Test func deletingMarksConsumersThatHadNotReadTheEvents() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x1000, count: 10)
            let consumers = try EventStoreConsumers(path: path)
            try consumers.acknowledge("behind", through: 2)
            try consumers.acknowledge("ahead", through: 8)
            #expect(try writer.deleteEvents(upTo: 5) == 5)
            #expect(try consumers.consumer("behind")?.lostThrough == 5)
            #expect(try consumers.consumer("ahead")?.lostThrough == nil)
        }
    }
}
