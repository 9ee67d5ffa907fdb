// DDL capture's messages in the stream, without Postgres: a command that
// changed a captured table's shape is an `s` event at the DDL (before any
// row change) followed by an `m` event carrying the command; the Relation
// that follows makes no second version; a drop is an `s` event with no
// columns and `dropped: true`; commands of other tables, forged content,
// replays and non-transactional messages produce nothing.

import EventStore
import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct DDLMessageTests {
    typealias S = SchemaAnnouncementTests
    typealias F = PgOutputFrames

    /// The content the event trigger writes for `columns` of public.users.
    static func command(
        _ columns: [(String, UInt32, String)], table: String = "users", oid: UInt32 = S.oid, key: [String] = ["id"],
        tag: String = "ALTER TABLE", sql: String = "ALTER TABLE users ADD COLUMN age int"
    ) -> String {
        let list = columns.map { name, type, typeName in
            #"{"name": "\#(name)", "type_oid": \#(type), "type_modifier": -1, "type": "\#(typeName)", "nullable": \#(name != "id"), "default": null}"#
        }
        let keys = key.map { "\"\($0)\"" }.joined(separator: ", ")
        return
            #"{"event": "ddl_command_end", "tag": "\#(tag)", "object_type": "table", "schema": "public", "table": "\#(table)", "identity": "public.\#(table)", "oid": \#(oid), "sql": "\#(sql)", "columns": [\#(list.joined(separator: ",\n "))], "key": [\#(keys)]}"#
    }

    static func drop(table: String = "users", oid: UInt32 = S.oid) -> String {
        #"{"event": "sql_drop", "tag": "DROP TABLE", "object_type": "table", "schema": "public", "table": "\#(table)", "identity": "public.\#(table)", "oid": \#(oid), "sql": "DROP TABLE \#(table)"}"#
    }

    static func message(_ content: String, prefix: String = DDLCapture.prefix, transactional: Bool = true)
        -> PgOutputMessage
    {
        .message(
            LogicalMessage(
                transactional: transactional, lsn: LSN(0x100), prefix: prefix, content: ArraySlice(content.utf8)))
    }

    static let v1Columns: [(String, UInt32, String)] = [("id", 23, "integer"), ("email", 25, "text")]
    static let v2Columns = v1Columns + [("age", 23, "integer")]

    /// v1 announced by its first change, as every pipeline starts.
    static func started() throws -> (ChangeAssembler, [[String: Any]]) {
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero, registry: SchemaRegistry())
        let events = try S.run(
            [
                ChangeAssemblerTests.begin(0x1000), .relation(S.v1), S.insert(["1", "a"]),
                ChangeAssemblerTests.commit(0x1000),
            ],
            &assembler)
        return (assembler, events)
    }

    @Test func aShapeChangingCommandIsAnnouncedAtTheDDLThenTheRelationMakesNoSecondVersion() throws {
        var (assembler, first) = try Self.started()
        #expect(first.map { $0["op"] as? String } == ["s", "c"])
        let events = try S.run(
            [
                ChangeAssemblerTests.begin(0x2000), Self.message(Self.command(Self.v2Columns)),
                ChangeAssemblerTests.commit(0x2000),
                ChangeAssemblerTests.begin(0x3000), .relation(S.v2), S.insert(["2", "b", "30"]),
                ChangeAssemblerTests.commit(0x3000),
            ], &assembler)
        #expect(events.map { $0["op"] as? String } == ["s", "m", "c"])
        #expect(events.map { $0["id"] as? String } == ["0/2000:0", "0/2000:1", "0/3000:0"])
        let schema = try #require(events[0]["schema"] as? [String: Any])
        #expect(schema["version"] as? Int == 2)
        #expect((schema["columns"] as? [[String: Any]])?.map { $0["name"] as? String } == ["id", "email", "age"])
        #expect(schema["key"] as? [String] == ["id"])
        #expect(
            ((events[0]["change"] as? [String: Any])?["added"] as? [[String: Any]])?.first?["name"] as? String == "age")
        #expect(events[0]["_stores"] as? Int64 == 2)
        let message = try #require(events[1]["message"] as? [String: Any])
        #expect(message["prefix"] as? String == "popsink.ddl")
        #expect(message["transactional"] as? Bool == true)
        let content = try #require(message["content"] as? [String: Any])
        #expect(content["tag"] as? String == "ALTER TABLE")
        #expect(content["identity"] as? String == "public.users")
        #expect(content["sql"] as? String == "ALTER TABLE users ADD COLUMN age int")
        #expect(content["columns"] == nil, "the columns are the s event's")
        #expect((events[1]["source"] as? [String: Any])?["schema_version"] as? Int == 2)
        #expect((events[2]["source"] as? [String: Any])?["schema_version"] as? Int == 2)
    }

    @Test func aCommandThatKeepsTheShapeIsOnlyAMessage() throws {
        var (assembler, _) = try Self.started()
        let events = try S.run(
            [
                ChangeAssemblerTests.begin(0x2000),
                Self.message(Self.command(Self.v1Columns, sql: "ALTER TABLE users SET (fillfactor = 90)")),
                ChangeAssemblerTests.commit(0x2000),
            ], &assembler)
        #expect(events.map { $0["op"] as? String } == ["m"])
        #expect((events[0]["source"] as? [String: Any])?["schema_version"] as? Int == 1)
    }

    @Test func aDropIsAVersionWithoutColumnsOnceAndARecreatedTableStartsOver() throws {
        var (assembler, _) = try Self.started()
        let events = try S.run(
            [
                ChangeAssemblerTests.begin(0x2000), Self.message(Self.drop()), Self.message(Self.drop()),
                ChangeAssemblerTests.commit(0x2000),
                ChangeAssemblerTests.begin(0x3000),
                Self.message(
                    Self.command(Self.v1Columns, oid: 20_000, tag: "CREATE TABLE", sql: "CREATE TABLE users ()")),
                ChangeAssemblerTests.commit(0x3000),
            ], &assembler)
        #expect(events.map { $0["op"] as? String } == ["s", "m", "s", "m"])
        #expect(events[0]["dropped"] as? Bool == true)
        let dropped = try #require(events[0]["schema"] as? [String: Any])
        #expect(dropped["version"] as? Int == 2 && (dropped["columns"] as? [Any])?.isEmpty == true)
        let change = try #require(events[0]["change"] as? [String: Any])
        #expect(change["dropped"] as? [String] == ["id", "email"])
        #expect(change["table_dropped"] as? Bool == true)
        #expect(
            ((events[1]["message"] as? [String: Any])?["content"] as? [String: Any])?["event"] as? String == "sql_drop")
        #expect((events[2]["schema"] as? [String: Any])?["version"] as? Int == 3)
        #expect(events[2]["dropped"] == nil)
        #expect(((events[2]["change"] as? [String: Any])?["added"] as? [Any])?.count == 2)
    }

    @Test func otherTablesForgedContentReplaysAndUntransactionalMessagesProduceNothing() throws {
        var (assembler, _) = try Self.started()
        let events = try S.run(
            [
                ChangeAssemblerTests.begin(0x2000),
                Self.message(Self.command(Self.v2Columns, table: "never_seen", oid: 99)),
                Self.message(Self.drop(table: "users", oid: 99)),
                Self.message("not json"), Self.message(#"{"event": "ddl_command_end"}"#),
                Self.message(Self.command(Self.v2Columns), transactional: false),
                Self.message(Self.command(Self.v2Columns), prefix: "someone.else"),
                ChangeAssemblerTests.commit(0x2000),
            ], &assembler)
        #expect(events.isEmpty)
        // A transaction at or below the stored commit is a replay.
        var replaying = ChangeAssembler(
            database: "app", lastStoredCommit: LSN(0x5000),
            registry: try {
                var registry = SchemaRegistry()
                registry.announced(
                    SchemaVersion(
                        schema: "public", table: "users", version: 1, relationOID: S.oid,
                        columns: S.schema(S.v1).columns, change: nil))
                return registry
            }())
        let replayed = try S.run(
            [
                ChangeAssemblerTests.begin(0x4000), Self.message(Self.command(Self.v2Columns)),
                ChangeAssemblerTests.commit(0x4000),
            ],
            &replaying)
        #expect(replayed.isEmpty)
    }

    /// Through the stream machine: a transaction that holds only the DDL is
    /// stored, with its version recorded in the same group.
    @Test func aTransactionOfOnlyDDLIsCommittedWithItsVersion() throws {
        var harness = MachineHarness(schemaRegistry: SchemaRegistry())
        try harness.feed(F.relation(), at: 0x500)
        try StreamMachineTests.transaction(&harness, commit: 0x1000, ids: [1])
        try harness.drained()
        try harness.feed(F.begin(commit: 0x2000), at: 0x1f00)
        let columns: [(String, UInt32, String)] = [
            ("id", 23, "integer"), ("email", 25, "text"), ("age", 23, "integer"),
        ]
        try harness.feed(
            F.logical(prefix: DDLCapture.prefix, content: Self.command(columns, oid: F.usersOID), at: 0x1f10),
            at: 0x1f10)
        try harness.feed(F.commit(0x2000), at: 0x2000)
        let actions = try harness.drained()
        #expect(harness.storedOperations == ["s", "c", "s", "m"])
        #expect(harness.stored.suffix(2) == ["0/2000:0", "0/2000:1"])
        #expect(harness.checkpoint == Checkpoint(lastCommitLSN: LSN(0x2000), flushLSN: LSN(0x2028)))
        #expect(harness.log.map(\.name).contains("version users 2"))
        #expect(actions.map(\.name).first == "commit 0/2000/0/2028")
    }

    /// In a streamed transaction the command and the Relations are staged
    /// with the rows and replayed in their place: the change before the DDL
    /// is decoded with the old shape, the `s` event of the DDL comes next,
    /// and the Relation after it makes no second version.
    @Test func aCommandInAStreamedTransactionIsReplayedInItsPlace() throws {
        var harness = MachineHarness(schemaRegistry: SchemaRegistry())
        try harness.feed(F.relation(), at: 0x500)
        try StreamMachineTests.transaction(&harness, commit: 0x1000, ids: [1])
        try harness.drained()
        try harness.feed(F.streamStart(xid: 9, first: true), at: 0x2000)
        try harness.feed(F.relation(xid: 9), at: 0x2008)
        try harness.feed(F.insert(2, xid: 9), at: 0x2010)
        let widened: [(key: Bool, name: String, type: UInt32)] = F.usersColumns + [(false, "age", 23)]
        try harness.feed(
            F.logical(
                prefix: DDLCapture.prefix,
                content: Self.command(widened.map { ($0.name, $0.type, "t") }, oid: F.usersOID),
                at: 0x2020, xid: 9),
            at: 0x2020)
        try harness.feed(F.relation(xid: 9, columns: widened), at: 0x2030)
        try harness.feed(F.streamStop(), at: 0x2800)
        #expect(harness.staged[9]?.count == 4, "two Relations, an insert and the command")
        #expect(harness.log.map(\.name).filter { $0.hasPrefix("schema") } == ["schema users"], "none resolved yet")
        try harness.feed(F.streamCommit(xid: 9, commit: 0x3000), at: 0x3000)
        try harness.drained()
        #expect(harness.storedOperations == ["s", "c", "c", "s", "m"])
        #expect(harness.log.map(\.name).filter { $0.hasPrefix("version") } == ["version users 1", "version users 2"])
    }
}
