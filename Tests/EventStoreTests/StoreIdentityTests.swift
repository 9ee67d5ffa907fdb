// Store identity on real files: made at creation, kept across reopen, new
// after delete and recreate (so an old cursor is refused), and given to a
// store an older version created when a writer opens it.

import Foundation
import PostgresWire
import Testing

@testable import EventStore

@Suite struct StoreIdentityTests {
    @Test func aStoreKeepsItsIDAndARecreatedStoreRefusesOldCursors() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            var writer: EventStoreWriter? = try EventStoreWriter(path: path)
            let first = writer!.storeID
            try commitTransactions(writer!, from: 0x1000, count: 50)
            writer!.close()
            writer = try EventStoreWriter(path: path)
            #expect(writer!.storeID == first)
            let reader = try EventStoreReader(path: path)
            #expect(try reader.storeID() == first)
            let page = try reader.page(after: .start, limit: 10)
            #expect(page.storeID == first)
            #expect(page.nextCursor == StoreCursor(storeID: first, sequence: 10))
            let old = StoreCursor(storeID: first, sequence: 40)
            #expect(try reader.page(after: old, limit: 100).events.map(\.sequence) == Array(41...50))
            reader.close()
            writer!.close()
            writer = nil

            // The documented remedy "remove the store": sequences restart at 1.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let recreated = try EventStoreWriter(path: path)
            #expect(recreated.storeID != first)
            try commitTransactions(recreated, from: 0x9000, count: 60)
            let newReader = try EventStoreReader(path: path)

            let error = #expect(throws: EventStoreError.self) { try newReader.page(after: old, limit: 100) }
            #expect(error?.kind == .cursorOfOtherStore)
            #expect(error?.storeID == recreated.storeID)
            #expect(error?.description.contains(recreated.storeID.rawValue) == true)
            #expect(throws: EventStoreError.self) { try newReader.check(old) }
            // The new store's own cursors work.
            let fresh = try newReader.page(after: StoreCursor(storeID: recreated.storeID, sequence: 0), limit: 1000)
            #expect(fresh.events.map(\.sequence) == Array(1...60))
        }
    }

    @Test func aBareCursorBeyondTheEndIsAnErrorNotAnEmptyPage() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try commitTransactions(writer, from: 0x1000, count: 5)
            let reader = try EventStoreReader(path: path)
            #expect(try reader.page(after: StoreCursor(sequence: 5), limit: 10).events.isEmpty)
            let error = #expect(throws: EventStoreError.self) {
                try reader.page(after: StoreCursor(sequence: 6), limit: 10)
            }
            #expect(error?.kind == .cursorBeyondEnd)
            #expect(error?.lastSequence == 5)
        }
    }

    @Test func aStoreOfAnOlderVersionGetsAnIDFromItsNextWriter() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            do {
                let writer = try EventStoreWriter(path: path)
                writer.close()
            }
            // Undo migrations 4 to 9, and store 3 events one per row, as a store of version 3 looks.
            do {
                let connection = try SQLiteConnection(path: path, mode: .readWrite(create: false))
                try connection.execute(
                    """
                    DELETE FROM metadata WHERE key = 'store_id'; DROP TABLE consumers; DROP TABLE table_schemas;
                    DROP TABLE event_blocks; DROP TABLE backfill_requests; DROP TABLE block_frames;
                    DROP TABLE staged; CREATE TABLE staged_changes (x INTEGER);
                    PRAGMA user_version = 3;
                    INSERT INTO events (seq, commit_lsn, ordinal, body) VALUES (1, 4096, 0, x'7B7D'), (2, 4352, 0, x'7B7D'),
                        (3, 4608, 0, x'7B7D');
                    INSERT INTO groups VALUES (3, 1, 3, 6, 4096, 4608, 0, 0);
                    INSERT INTO checkpoint VALUES (1, 4608, 4608, 3, 0);
                    """,
                    operation: "downgrade")
                connection.close()
            }
            let oldReader = try EventStoreReader(path: path)
            #expect(try oldReader.storeID() == nil)
            #expect(try oldReader.page(after: .start, limit: 10).events.count == 3)
            oldReader.close()

            let writer = try EventStoreWriter(path: path)
            #expect(writer.lastSequence == 3)
            let reader = try EventStoreReader(path: path)
            #expect(try reader.storeID() == writer.storeID)
        }
    }
}
