// Backfill requests written by the API's connection while the pipeline's
// writer is open: the writer sees them, deletes one only with the group
// that records its effect, and keeps a cancel that came after the request
// was taken.

import EventStore
import PostgresWire
import Testing

@Suite struct BackfillRequestsTests {
    @Test func requestsAndCancelsReachTheWriterAndLeaveWithItsGroup() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            defer { writer.close() }
            let requests = try EventStoreBackfillRequests(path: path)
            defer { requests.close() }
            try requests.add(BackfillRequestRow(id: "bf_a", body: "{\"a\":1}", cancel: false, requestedAtMicros: 2))
            try requests.add(BackfillRequestRow(id: "bf_b", body: "{\"b\":1}", cancel: false, requestedAtMicros: 1))
            // A cancel of a backfill with no request row makes one; of one with a row, marks it.
            try requests.cancel(id: "bf_c", body: "{\"c\":1}", requestedAtMicros: 3)
            try requests.cancel(id: "bf_a", body: "ignored", requestedAtMicros: 4)
            let seen = try writer.backfillRequests()
            #expect(seen.map(\.id) == ["bf_b", "bf_a", "bf_c"], "oldest first")
            #expect(seen.map(\.cancel) == [false, true, true])
            #expect(seen[1].body == "{\"a\":1}", "a cancel keeps the request's body")

            // A group that rolls back keeps the rows.
            try writer.beginGroup()
            try writer.removeBackfillRequest("bf_b")
            writer.rollbackGroup()
            #expect(try requests.list().count == 3)

            // Taking a request keeps its row when a cancel came meanwhile.
            try writer.beginGroup()
            try writer.removeBackfillRequest("bf_b", keepingCancel: true)
            try writer.removeBackfillRequest("bf_a", keepingCancel: true)
            _ = try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x10), flushLSN: LSN(0x10)))
            #expect(try requests.list().map(\.id) == ["bf_a", "bf_c"])
            try writer.removeBackfillRequest("bf_a")
            #expect(try requests.list().map(\.id) == ["bf_c"])
        }
    }

    @Test func aDuplicateRequestIdIsRefused() throws {
        try withTemporaryDirectory { directory in
            let requests = try EventStoreBackfillRequests(path: directory + "/events.db")
            defer { requests.close() }
            let row = BackfillRequestRow(id: "bf_a", body: "{}", cancel: false, requestedAtMicros: 1)
            try requests.add(row)
            #expect(throws: EventStoreError.self) { try requests.add(row) }
        }
    }
}
