// `new_columns: exclude` without Postgres: a column added to a table with
// rules is held back (named in the `s` event, `excluded`, its values absent),
// stays held back after a restart (the registry read back from its stored
// rows), and comes through once a rule names it, as that rule says.

import EventStore
import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

extension ColumnMaskTests {
    typealias Announcements = SchemaAnnouncementTests

    /// Runs `messages` through `assembler`, resolving relations under `mask`;
    /// returns the events and the versions to store.
    static func assemble(
        _ messages: [PgOutputMessage], _ assembler: inout ChangeAssembler, mask: ColumnMask
    ) throws -> (events: [[String: Any]], versions: [StoredTableSchema]) {
        var events: [[String: Any]] = []
        var versions: [StoredTableSchema] = []
        for message in messages {
            let outcome = try assembler.received(message, walStart: LSN(0x100))
            var records: [ChangeAssembler.Record] = []
            if case .event(let record) = outcome { records = [record] }
            if case .events(let all) = outcome { records = all }
            events += try records.map { try json($0.body) }
            versions += records.compactMap(\.newSchema)
            if case .needsSchema(let relation) = outcome {
                assembler.register(Announcements.schema(relation).masked(by: mask))
            }
        }
        return (events, versions)
    }

    static func transaction(_ commit: UInt64, _ relation: Relation, _ values: [String]) -> [PgOutputMessage] {
        [
            ChangeAssemblerTests.begin(commit), .relation(relation), Announcements.insert(values),
            ChangeAssemblerTests.commit(commit),
        ]
    }

    @Test func aTableWithRulesHoldsBackAColumnAddedLaterUntilARuleNamesIt() throws {
        let mask = ColumnMask(hash: ["public.users.email"], newColumns: .exclude, hashKey: "k")
        #expect(mask.hasRules(schema: "public", table: "users"))
        #expect(!mask.hasRules(schema: "public", table: "orders"))
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero, registry: SchemaRegistry())
        let first = try Self.assemble(
            Self.transaction(0x1000, Announcements.v1, ["1", "a"])
                + Self.transaction(0x2000, Announcements.v2, ["2", "b", "31"]), &assembler, mask: mask)
        #expect(first.events.map { $0["op"] as? String } == ["s", "c", "s", "c"])
        let added = try #require(first.events[2]["schema"] as? [String: Any])
        let age = try #require((added["columns"] as? [[String: Any]])?.last)
        #expect(age["name"] as? String == "age")
        #expect(age["excluded"] as? Bool == true)
        #expect((first.events[2]["masked"] as? [String: Any])?["excluded"] as? [String] == ["age"])
        #expect((first.events[2]["masked"] as? [String: Any])?["new_columns"] as? String == "exclude")
        #expect((first.events[3]["after"] as? [String: Any])?.keys.sorted() == ["email", "id"])

        // A restart: the registry as the store gives it back, the same relation again.
        var resumed = ChangeAssembler(
            database: "app", lastStoredCommit: LSN(0x2000), registry: try SchemaRegistry(stored: first.versions))
        let again = try Self.assemble(
            Self.transaction(0x3000, Announcements.v2, ["3", "c", "32"]), &resumed, mask: mask)
        #expect(again.events.map { $0["op"] as? String } == ["c"])
        #expect((again.events[0]["after"] as? [String: Any])?["age"] == nil)

        // A rule names the column: hashed from the next version on.
        var named = mask
        named.hash.append("age")
        var renamed = ChangeAssembler(
            database: "app", lastStoredCommit: LSN(0x3000), registry: try SchemaRegistry(stored: first.versions))
        let through = try Self.assemble(
            Self.transaction(0x4000, Announcements.v2, ["4", "d", "33"]), &renamed, mask: named)
        #expect(through.events.map { $0["op"] as? String } == ["s", "c"])
        #expect((through.events[1]["after"] as? [String: Any])?["age"] as? String == Self.hmac("33", key: "k"))

        // `keep` lets it through as it is.
        var kept = mask
        kept.keep = ["users.age"]
        var keeping = ChangeAssembler(
            database: "app", lastStoredCommit: LSN(0x3000), registry: try SchemaRegistry(stored: first.versions))
        let plain = try Self.assemble(
            Self.transaction(0x4000, Announcements.v2, ["4", "d", "33"]), &keeping, mask: kept)
        #expect((plain.events[1]["after"] as? [String: Any])?["age"] as? Int == 33)
    }

    @Test func withoutTheOptionOrRulesANewColumnComesThrough() throws {
        for mask in [
            ColumnMask(hash: ["public.users.email"], hashKey: "k"),
            ColumnMask(hash: ["public.orders.email"], newColumns: .exclude, hashKey: "k"),
        ] {
            var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero, registry: SchemaRegistry())
            let run = try Self.assemble(
                Self.transaction(0x1000, Announcements.v1, ["1", "a"])
                    + Self.transaction(0x2000, Announcements.v2, ["2", "b", "31"]), &assembler, mask: mask)
            #expect((run.events.last?["after"] as? [String: Any])?["age"] as? Int == 31)
        }
    }

    /// DDL capture announces the added column as Relation messages do: held back, marked `excluded`.
    @Test func aColumnAddedByCapturedDDLIsHeldBackToo() throws {
        let mask = ColumnMask(hash: ["users.email"], newColumns: .exclude, hashKey: "k")
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero, registry: SchemaRegistry())
        assembler.columnMask = mask
        let run = try Self.assemble(
            Self.transaction(0x1000, Announcements.v1, ["1", "a"]) + [
                ChangeAssemblerTests.begin(0x2000),
                DDLMessageTests.message(DDLMessageTests.command(DDLMessageTests.v2Columns)),
                ChangeAssemblerTests.commit(0x2000),
            ] + Self.transaction(0x3000, Announcements.v2, ["2", "b", "30"]), &assembler, mask: mask)
        #expect(run.events.map { $0["op"] as? String } == ["s", "c", "s", "m", "c"])
        let columns = try #require((run.events[2]["schema"] as? [String: Any])?["columns"] as? [[String: Any]])
        #expect(columns.last?["name"] as? String == "age")
        #expect(columns.last?["excluded"] as? Bool == true)
        #expect((run.events[4]["after"] as? [String: Any])?["age"] == nil)
        #expect((run.events[4]["source"] as? [String: Any])?["schema_version"] as? Int == 2)
    }
}
