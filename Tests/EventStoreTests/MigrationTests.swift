// A store is migrated in one transaction: a reader that opens the file while
// the writer migrates it (the API right after a pipeline starts) must never
// see a version whose tables are not there yet. Proven here by a migration
// that fails part way: nothing of the steps before the failing one may stay.

import Foundation
import Testing

@testable import EventStore

@Suite struct MigrationTests {
    @Test func aMigrationThatFailsPartWayLeavesTheStoreAsItWas() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            // Marked as a store at version 0, with a table a later step creates: that step fails.
            let setup = try SQLiteConnection(path: path, mode: .readWrite(create: true))
            try setup.execute(
                "PRAGMA application_id = \(Schema.applicationID); CREATE TABLE event_blocks (x INTEGER)",
                operation: "prepare")
            setup.close()

            #expect(throws: EventStoreError.self) { _ = try EventStoreWriter(path: path) }

            let after = try SQLiteConnection(path: path, mode: .readOnly)
            defer { after.close() }
            #expect(try after.integer("PRAGMA user_version", operation: "read version") == 0)
            let earlierTables = try after.integer(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('events', 'checkpoint', 'metadata')",
                operation: "list tables")
            #expect(earlierTables == 0, "the steps before the failing one were kept")
        }
    }
}
