// The schema registry's rows: written only inside a group, kept or dropped
// with it, read back after reopening, newest per table and whole histories.

import EventStore
import PostgresWire
import Testing

@Suite struct TableSchemaStoreTests {
    static func version(_ table: String, _ number: Int64, lsn: UInt64) -> StoredTableSchema {
        StoredTableSchema(
            schema: "public", table: table, version: number, relationOID: 16_384, lsn: LSN(lsn),
            commitLSN: LSN(lsn + 0x10), columns: #"[{"name":"id"}]"#,
            change: number == 1 ? nil : #"{"previous_version":1}"#)
    }

    @Test func versionsCommitWithTheirGroupAndSurviveReopening() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            do {
                let writer = try EventStoreWriter(path: path)
                defer { writer.close() }
                #expect(throws: EventStoreError.self) { try writer.addTableSchema(Self.version("a", 1, lsn: 0x100)) }

                try writer.beginGroup()
                try writer.addTableSchema(Self.version("a", 1, lsn: 0x100))
                try writer.addTableSchema(Self.version("b", 1, lsn: 0x100))
                try writer.append(commitLSN: LSN(0x110), ordinal: 0, body: body(LSN(0x110), 0))
                try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x110), flushLSN: LSN(0x138)))

                // A group that does not commit takes its version with it.
                try writer.beginGroup()
                try writer.addTableSchema(Self.version("a", 2, lsn: 0x200))
                writer.rollbackGroup()

                try writer.beginGroup()
                try writer.addTableSchema(Self.version("a", 2, lsn: 0x300))
                try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: LSN(0x310), flushLSN: LSN(0x338)))
                // The same version twice is refused, and the group with it.
                try writer.beginGroup()
                #expect(throws: EventStoreError.self) { try writer.addTableSchema(Self.version("a", 2, lsn: 0x400)) }
                #expect(!writer.isGroupOpen)
            }
            let writer = try EventStoreWriter(path: path)
            defer { writer.close() }
            #expect(
                try writer.latestTableSchemas() == [Self.version("a", 2, lsn: 0x300), Self.version("b", 1, lsn: 0x100)])

            let reader = try EventStoreReader(path: path)
            defer { reader.close() }
            #expect(try reader.latestTableSchemas().map(\.version) == [2, 1])
            #expect(
                try reader.tableSchemaHistory(schema: "public", table: "a")
                    == [Self.version("a", 1, lsn: 0x100), Self.version("a", 2, lsn: 0x300)])
            #expect(try reader.tableSchemaHistory(schema: "public", table: "missing").isEmpty)
        }
    }
}
