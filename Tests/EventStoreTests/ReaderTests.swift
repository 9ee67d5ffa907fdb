// Readers: their own connection, only committed groups visible (WAL
// isolation), lookups by event id, exact bytes back.

import EventStore
import PostgresWire
import Testing

@Suite struct ReaderTests {
    @Test func aReaderSeesCommittedEventsButNotAnOpenGroup() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x1000, count: 3)
            let committed = try #require(writer.checkpoint)

            try writer.beginGroup()
            for ordinal: Int32 in 0..<500 {
                try writer.append(commitLSN: LSN(0x7000), ordinal: ordinal, body: body(LSN(0x7000), ordinal))
            }
            try writer.setMetadata("in.group", "yes")

            // A reader opened while the group is open, and one opened before it.
            let reader = try EventStoreReader(path: path)
            #expect(try reader.events(after: 0, limit: 10_000).map(\.sequence) == [1, 2, 3])
            #expect(try reader.lastSequence() == 3)
            #expect(try reader.checkpoint() == committed)
            #expect(try reader.metadata("in.group") == nil)

            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x7000), flushLSN: LSN(0x7028)))
            #expect(try reader.events(after: 3, limit: 10_000).count == 500)
            #expect(try reader.lastSequence() == 503)
            #expect(try reader.metadata("in.group") == "yes")
        }
    }

    @Test func readersWorkFromManyThreadsWhileTheWriterCommits() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x1000, count: 1)
            let reader = try EventStoreReader(path: path)

            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for _ in 0..<4 {
                    tasks.addTask {
                        var cursor: Int64 = 0
                        for _ in 0..<50 {
                            let page = try reader.events(after: cursor, limit: 100)
                            // Whatever a reader sees is a gap-free prefix.
                            for (offset, event) in page.enumerated() {
                                #expect(event.sequence == cursor + Int64(offset) + 1)
                            }
                            cursor = page.last?.sequence ?? cursor
                        }
                    }
                }
                for group in 0..<20 {
                    try commitTransactions(writer, from: 0x10000 * UInt64(group + 1), count: 25)
                }
                try await tasks.waitForAll()
            }
            #expect(try reader.lastSequence() == 501)
        }
    }

    @Test func findsTheSequenceOfAnEventID() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try writer.beginGroup()
            try writer.append(commitLSN: LSN("16/B374D848")!, ordinal: 0, body: [0])  // 1
            try writer.append(commitLSN: LSN("16/B374D848")!, ordinal: 1, body: [1])  // 2
            try writer.append(commitLSN: LSN("17/0")!, ordinal: 0, body: [2])  // 3
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN("17/0")!, flushLSN: LSN("17/28")!))
            // A transaction split over two groups, then snapshot-style rows that
            // share one LSN and arrive out of ordinal order.
            try writer.beginGroup()
            try writer.append(commitLSN: LSN("18/0")!, ordinal: 0, body: [3])  // 4
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN("18/0")!, flushLSN: LSN("18/0")!))
            try writer.beginGroup()
            try writer.append(commitLSN: LSN("18/0")!, ordinal: 1, body: [4])  // 5
            try writer.append(commitLSN: LSN("19/0")!, ordinal: 5, body: [5])  // 6
            try writer.append(commitLSN: LSN("19/0")!, ordinal: 2, body: [6])  // 7
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN("19/0")!, flushLSN: LSN("19/0")!))

            let reader = try EventStoreReader(path: path)
            let expected: [String: Int64?] = [
                "16/B374D848:0": 1, "16/B374D848:1": 2, "17/0:0": 3, "18/0:0": 4, "18/0:1": 5,
                "19/0:5": 6, "19/0:2": 7, "17/0:1": nil, "18/0:2": nil, "0/0:0": nil, "FFFFFFFF/FFFFFFFF:0": nil,
            ]
            for (id, sequence) in expected {
                #expect(try reader.sequence(ofEventID: id) == sequence, "\(id)")
            }
            #expect(try reader.events(after: 0, limit: 1).first?.id == "16/B374D848:0")

            // Retention removes the rows, and with them the answer.
            try writer.deleteEvents(upTo: 4)
            #expect(try reader.sequence(ofEventID: "18/0:0") == nil)
            #expect(try reader.sequence(ofEventID: "18/0:1") == 5)

            for malformed in ["", "17/0", "17/0:", "17/0:x", "170:1", "17/0:-1", ":1", "17/0:1:2"] {
                let error = #expect(throws: EventStoreError.self) { try reader.sequence(ofEventID: malformed) }
                #expect(error?.kind == .invalidArgument)
            }
        }
    }

    @Test func bodiesRoundTripByteForByte() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            let bodies: [[UInt8]] = [
                [],
                [0],
                [0x7B, 0x00, 0x7D, 0x00, 0x00],
                [0xFF, 0xFE, 0xC3, 0x28, 0xA0, 0xA1, 0xED, 0xA0, 0x80],  // invalid UTF-8
                Array(0...255),
                (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) },  // spans overflow pages
            ]
            try writer.beginGroup()
            for (ordinal, bytes) in bodies.enumerated() {
                try writer.append(commitLSN: LSN(0x100), ordinal: Int32(ordinal), body: bytes)
            }
            // The slice and raw-buffer entry points store exactly the bytes they are given.
            try writer.append(commitLSN: LSN(0x100), ordinal: 6, body: bodies[4][10..<20])
            try bodies[3].withUnsafeBytes { raw in
                _ = try writer.append(commitLSN: LSN(0x100), ordinal: 7, body: raw)
            }
            try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x100), flushLSN: LSN(0x100)))

            let reader = try EventStoreReader(path: path)
            let stored = try reader.events(after: 0, limit: 100)
            #expect(stored.map(\.body) == bodies + [Array(bodies[4][10..<20]), bodies[3]])

            var lent: [[UInt8]] = []
            try reader.forEachEvent(after: 0, limit: 100) { _, _, _, body in
                lent.append(Array(body))
                return lent.count < 3
            }
            #expect(lent == Array(bodies.prefix(3)))
        }
    }

    @Test func aClosedReaderRefusesCalls() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            _ = try EventStoreWriter(path: path)
            let reader = try EventStoreReader(path: path)
            reader.close()
            reader.close()
            let error = #expect(throws: EventStoreError.self) { try reader.lastSequence() }
            #expect(error?.kind == .misuse)
        }
    }
}
