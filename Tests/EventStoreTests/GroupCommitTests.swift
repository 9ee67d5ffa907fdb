// Group commit: events and their checkpoint are stored together or not at all,
// sequences are gap-free, and a cursor reads them back in order.

import EventStore
import PostgresWire
import Testing

@Suite struct GroupCommitTests {
    @Test func appendCommitAndReadBackWithACursor() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/pipeline/events.db"
            let writer = try EventStoreWriter(path: path)
            #expect(writer.checkpoint == nil)
            #expect(writer.lastSequence == 0)

            try writer.beginGroup()
            var sequences: [Int64] = []
            for ordinal: Int32 in 0..<3 {
                sequences.append(
                    try writer.append(commitLSN: LSN(0x100), ordinal: ordinal, body: body(LSN(0x100), ordinal)))
            }
            for ordinal: Int32 in 0..<2 {
                sequences.append(
                    try writer.append(commitLSN: LSN(0x200), ordinal: ordinal, body: body(LSN(0x200), ordinal)))
            }
            let receipt = try writer.commitGroup(
                checkpoint: Checkpoint(lastCommitLSN: LSN(0x200), flushLSN: LSN(0x228)))
            #expect(sequences == [1, 2, 3, 4, 5])
            #expect(receipt.firstSequence == 1 && receipt.lastSequence == 5 && receipt.eventCount == 5)
            #expect(
                receipt.committedAtMicros >= receipt.beganAtMicros
                    && receipt.durableAtMicros >= receipt.committedAtMicros)
            #expect(writer.lastSequence == 5)
            #expect(writer.checkpoint == Checkpoint(lastCommitLSN: LSN(0x200), flushLSN: LSN(0x228)))

            let reader = try EventStoreReader(path: path)
            let all = try reader.events(after: 0, limit: 100)
            #expect(all.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(all.map(\.id) == ["0/100:0", "0/100:1", "0/100:2", "0/200:0", "0/200:1"])
            #expect(all[3].body == body(LSN(0x200), 0))
            #expect(try reader.events(after: 3, limit: 100).map(\.sequence) == [4, 5])
            #expect(try reader.events(after: 1, limit: 2).map(\.sequence) == [2, 3])
            #expect(try reader.events(after: 5, limit: 100).isEmpty)
            #expect(try reader.events(after: 0, limit: 0).isEmpty)
            #expect(try reader.lastSequence() == 5)
            #expect(try reader.firstSequence() == 1)
            #expect(try reader.checkpoint() == writer.checkpoint)
        }
    }

    @Test func sequencesStayGapFreeAcrossGroups() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x1000, count: 10)
            try commitTransactions(writer, from: 0x10000, count: 7)
            try commitTransactions(writer, from: 0x20000, count: 1)

            let reader = try EventStoreReader(path: path)
            var cursor: Int64 = 0
            var seen: [Int64] = []
            while true {
                let page = try reader.events(after: cursor, limit: 4)
                guard let last = page.last else { break }
                seen += page.map(\.sequence)
                cursor = last.sequence
            }
            #expect(seen == Array(1...18))
        }
    }

    @Test func aRolledBackGroupLeavesNeitherEventsNorCheckpoint() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            let committed = try commitTransactions(writer, from: 0x1000, count: 3)
            let before = try #require(writer.checkpoint)

            try writer.beginGroup()
            try writer.append(commitLSN: LSN(0x9000), ordinal: 0, body: body(LSN(0x9000), 0))
            try writer.setMetadata("snapshot.progress", "chunk 7")
            writer.rollbackGroup()

            #expect(!writer.isGroupOpen)
            #expect(writer.checkpoint == before && before.lastCommitLSN == committed)
            #expect(writer.lastSequence == 3)
            #expect(try writer.metadata("snapshot.progress") == nil)
            let reader = try EventStoreReader(path: path)
            #expect(try reader.events(after: 0, limit: 100).count == 3)
            #expect(try reader.checkpoint() == before)

            // The next group continues right after the last committed sequence.
            try writer.beginGroup()
            #expect(try writer.append(commitLSN: LSN(0x9000), ordinal: 0, body: body(LSN(0x9000), 0)) == 4)
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x9000), flushLSN: LSN(0x9000)))
        }
    }

    @Test func closingWithAnOpenGroupLosesTheGroupOnly() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            do {
                let writer = try EventStoreWriter(path: path)
                try commitTransactions(writer, from: 0x1000, count: 2)
                try writer.beginGroup()
                for ordinal: Int32 in 0..<1_000 {
                    try writer.append(commitLSN: LSN(0x5000), ordinal: ordinal, body: body(LSN(0x5000), ordinal))
                }
                writer.close()  // no commit: SQLite rolls the transaction back
            }
            let writer = try EventStoreWriter(path: path)
            #expect(writer.lastSequence == 2)
            #expect(writer.checkpoint?.lastCommitLSN == LSN(0x1100))
            let reader = try EventStoreReader(path: path)
            #expect(try reader.events(after: 0, limit: 10_000).map(\.sequence) == [1, 2])
            #expect(try reader.sequence(ofEventID: "0/5000:0") == nil)
        }
    }

    @Test func reopeningKeepsCheckpointMetadataAndSequence() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            do {
                let writer = try EventStoreWriter(path: path)
                try writer.setMetadata("slot.name", "popsink_orders")
                try writer.setMetadata("system.identifier", "7301234567890123456")
                try writer.setMetadata("slot.name", "popsink_orders_v2")
                try commitTransactions(writer, from: 0x1000, count: 4)
                try writer.saveCheckpoint(Checkpoint(lastCommitLSN: LSN(0x1300), flushLSN: LSN(0x8000)))
                writer.close()
            }
            // A reader can open the store while no writer has it open.
            #expect(try EventStoreReader(path: path).checkpoint()?.flushLSN == LSN(0x8000))
            let writer = try EventStoreWriter(path: path)
            #expect(writer.checkpoint == Checkpoint(lastCommitLSN: LSN(0x1300), flushLSN: LSN(0x8000)))
            #expect(writer.lastSequence == 4)
            #expect(try writer.metadata("slot.name") == "popsink_orders_v2")
            #expect(try writer.metadata("system.identifier") == "7301234567890123456")
            #expect(try writer.metadata("missing") == nil)
            try writer.removeMetadata("system.identifier")
            #expect(try writer.metadata("system.identifier") == nil)

            try writer.beginGroup()
            #expect(try writer.append(commitLSN: LSN(0x9000), ordinal: 0, body: [1]) == 5)
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x9000), flushLSN: LSN(0x9028)))

            let reader = try EventStoreReader(path: path)
            #expect(try reader.metadata("slot.name") == "popsink_orders_v2")
            #expect(try reader.lastSequence() == 5)
        }
    }

    @Test func checkpointsThatBreakTheInvariantsAreRefused() throws {
        try withTemporaryDirectory { directory in
            let writer = try EventStoreWriter(path: directory + "/events.db")
            try commitTransactions(writer, from: 0x1000, count: 1)  // checkpoint 0/1000, flush 0/1028

            // Flush behind the last commit.
            #expect(throws: EventStoreError.self) {
                try writer.saveCheckpoint(Checkpoint(lastCommitLSN: LSN(0x2000), flushLSN: LSN(0x1fff)))
            }
            // Moving backwards.
            let backwards = #expect(throws: EventStoreError.self) {
                try writer.saveCheckpoint(Checkpoint(lastCommitLSN: LSN(0x0fff), flushLSN: LSN(0x2000)))
            }
            #expect(backwards?.kind == .invalidCheckpoint)
            // Not covering the group's events: rolled back, nothing stored.
            try writer.beginGroup()
            try writer.append(commitLSN: LSN(0x3000), ordinal: 0, body: [1])
            let uncovered = #expect(throws: EventStoreError.self) {
                try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x2000), flushLSN: LSN(0x3000)))
            }
            #expect(uncovered?.kind == .invalidCheckpoint)
            #expect(uncovered?.description.contains("does not cover") == true)
            #expect(!writer.isGroupOpen)
            #expect(writer.lastSequence == 1)
            #expect(writer.checkpoint == Checkpoint(lastCommitLSN: LSN(0x1000), flushLSN: LSN(0x1028)))
        }
    }

    @Test func apiMisuseIsAnErrorNotACrash() throws {
        try withTemporaryDirectory { directory in
            let writer = try EventStoreWriter(path: directory + "/events.db")
            let noGroup = #expect(throws: EventStoreError.self) {
                try writer.append(commitLSN: LSN(1), ordinal: 0, body: [1])
            }
            #expect(noGroup?.kind == .misuse)
            #expect(throws: EventStoreError.self) {
                try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(1), flushLSN: LSN(1)))
            }
            try writer.beginGroup()
            #expect(throws: EventStoreError.self) { try writer.beginGroup() }
            #expect(throws: EventStoreError.self) {
                try writer.saveCheckpoint(Checkpoint(lastCommitLSN: LSN(1), flushLSN: LSN(1)))
            }
            writer.rollbackGroup()
            writer.close()
            writer.close()
            let closed = #expect(throws: EventStoreError.self) { try writer.beginGroup() }
            #expect(closed?.kind == .misuse)
            #expect(throws: EventStoreError.self) { try writer.metadata("x") }
        }
    }

    @Test func aGroupWithoutEventsOnlyAdvancesTheCheckpoint() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try writer.beginGroup()
            let receipt = try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: .zero, flushLSN: LSN(0x4000)))
            #expect(receipt.eventCount == 0 && receipt.firstSequence == 1 && receipt.lastSequence == 0)
            let reader = try EventStoreReader(path: path)
            #expect(try reader.checkpoint() == Checkpoint(lastCommitLSN: .zero, flushLSN: LSN(0x4000)))
            #expect(try reader.lastSequence() == 0)
            #expect(try reader.firstSequence() == nil)
        }
    }

    @Test func normalDurabilityStoresTheSameWay() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            do {
                let writer = try EventStoreWriter(path: path, durability: .normal)
                try commitTransactions(writer, from: 0x1000, count: 3)
                writer.close()
            }
            let writer = try EventStoreWriter(path: path)
            #expect(writer.lastSequence == 3)
            #expect(try EventStoreReader(path: path).events(after: 0, limit: 10).count == 3)
        }
    }
}
