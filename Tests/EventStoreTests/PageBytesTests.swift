// Pages capped by bytes as well as count, on large rows: every page stays
// within its budget except a single event larger than the budget, which comes
// alone; continuing from next_after reads every event exactly once.

import EventStore
import PostgresWire
import Testing

@Suite struct PageBytesTests {
    /// Events 1...n with bodies of `sizes[i]` bytes.
    func store(_ path: String, sizes: [Int]) throws {
        let writer = try EventStoreWriter(path: path)
        try writer.beginGroup()
        for (index, size) in sizes.enumerated() {
            let lsn = LSN(0x1000 + UInt64(index) * 0x100)
            try writer.append(
                commitLSN: lsn, ordinal: 0, body: [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: size)
            )
        }
        let last = LSN(0x1000 + UInt64(sizes.count - 1) * 0x100)
        try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: last, flushLSN: last))
        writer.close()
    }

    @Test func pagesStayWithinTheByteBudgetAndNextAfterIsExact() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let mib = 1 << 20
            // Large rows, one larger than the whole budget, and small ones.
            let sizes = [mib, mib, mib, 5 * mib, 10, 10, mib + 1, mib, 3]
            try store(path, sizes: sizes)
            let reader = try EventStoreReader(path: path)
            var cursor = StoreCursor.start
            var pages: [[Int64]] = []
            var seen: [Int] = []
            while true {
                let page = try reader.page(after: cursor, limit: 1000, maxBytes: 2 * mib + 100)
                if page.events.isEmpty { break }
                let bytes = page.events.reduce(0) { $0 + $1.body.count }
                #expect(bytes <= 2 * mib + 100 || page.events.count == 1)
                #expect(page.nextAfter == page.events.last!.sequence)
                pages.append(page.events.map(\.sequence))
                seen += page.events.map(\.body.count)
                cursor = page.nextCursor
            }
            #expect(seen == sizes)
            // 5, 6 and 7 (1 MiB + 21 bytes) leave room for 8 and 9 (1 MiB + 3 bytes) in the budget.
            #expect(pages == [[1, 2], [3], [4], [5, 6, 7, 8, 9]])
        }
    }

    @Test func theDefaultBudgetCapsUncheckedReadsToo() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            try store(path, sizes: Array(repeating: 1 << 20, count: 10))
            let reader = try EventStoreReader(path: path)
            // 10 events asked for, 4 MiB default budget: 4 of them.
            #expect(try reader.events(after: 0, limit: 10).count == PageLimits.defaultMaxBytes >> 20)
            var count = 0
            try reader.forEachEvent(after: 0, limit: 10, maxBytes: 3 << 20) { _, _, _, _ in
                count += 1
                return true
            }
            #expect(count == 3)
            // A budget of 0 still returns one event, so a consumer always progresses.
            #expect(try reader.events(after: 0, limit: 10, maxBytes: 0).map(\.sequence) == [1])
        }
    }
}
