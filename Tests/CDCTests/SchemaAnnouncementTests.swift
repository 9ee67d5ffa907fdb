// The assembler with a registry: an `s` event before the first change decoded
// with a new version, none for a Relation that did not change, none inside a
// replayed transaction, and `schema_version` on every change.

import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct SchemaAnnouncementTests {
    static let oid: UInt32 = 16_384

    static func relation(_ columns: [(String, UInt32)]) -> Relation {
        Relation(
            oid: oid, namespace: "public", name: "users", replicaIdentity: .full,
            columns: columns.map { .init(isKey: true, name: $0.0, typeOID: $0.1, typeModifier: -1) })
    }

    static func schema(_ relation: Relation) -> TableSchema {
        TableSchema(
            relation: relation, kinds: relation.columns.map { $0.typeOID == 23 ? .integer : .text },
            keyColumns: ["id"], isCaptured: true,
            columnFacts: relation.columns.map {
                .init(
                    typeName: $0.typeOID == 23 ? "integer" : "text", isNullable: $0.name != "id", defaultExpression: nil
                )
            })
    }

    static func insert(_ values: [String]) -> PgOutputMessage {
        .insert(Insert(relationOID: oid, newTuple: TupleData(columns: values.map { .text(ArraySlice($0.utf8)) })))
    }

    static func run(_ messages: [PgOutputMessage], _ assembler: inout ChangeAssembler) throws -> [[String: Any]] {
        try ChangeAssemblerTests.feed(messages, into: &assembler, schema: Self.schema).events
    }

    static let v1 = relation([("id", 23), ("email", 25)])
    static let v2 = relation([("id", 23), ("email", 25), ("age", 23)])

    @Test func announcesTheFirstAndEachNewVersionBeforeItsFirstChange() throws {
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero, registry: SchemaRegistry())
        let events = try Self.run(
            [
                ChangeAssemblerTests.begin(0x2000), .relation(Self.v1), Self.insert(["1", "a"]),
                Self.insert(["2", "b"]),
                ChangeAssemblerTests.commit(0x2000),
                // A new session resends the same Relation: nothing to announce.
                ChangeAssemblerTests.begin(0x3000), .relation(Self.v1), Self.insert(["3", "c"]),
                .relation(Self.v2), Self.insert(["4", "d", "40"]), ChangeAssemblerTests.commit(0x3000),
            ], &assembler)
        #expect(events.map { $0["op"] as? String } == ["s", "c", "c", "c", "s", "c"])
        #expect(
            events.map { $0["id"] as? String } == [
                "0/2000:0", "0/2000:1", "0/2000:2", "0/3000:0", "0/3000:1", "0/3000:2",
            ])
        let versions = events.map { ($0["source"] as? [String: Any])?["schema_version"] as? Int }
        #expect(versions == [1, 1, 1, 1, 2, 2])
        #expect(events.map { $0["_stores"] as? Int64 } == [1, nil, nil, nil, 2, nil])

        let first = try #require(events[0]["schema"] as? [String: Any])
        #expect(first["key"] as? [String] == ["id"])
        let columns = try #require(first["columns"] as? [[String: Any]])
        #expect(columns.map { $0["name"] as? String } == ["id", "email"])
        #expect(columns.map { $0["type"] as? String } == ["integer", "text"])
        #expect(columns.map { $0["nullable"] as? Bool } == [false, true])
        #expect(events[0]["change"] is NSNull)
        let change = try #require(events[4]["change"] as? [String: Any])
        #expect(change["previous_version"] as? Int == 1)
        #expect((change["added"] as? [[String: Any]])?.map { $0["name"] as? String } == ["age"])
        #expect(change["dropped"] as? [String] == [])
        #expect(change["key_changed"] is NSNull)
    }

    @Test func aReplayedTransactionLeavesTheAnnouncementForTheNextChange() throws {
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: LSN(0x2000), registry: SchemaRegistry())
        let events = try Self.run(
            [
                ChangeAssemblerTests.begin(0x2000), .relation(Self.v1), Self.insert(["1", "a"]),
                ChangeAssemblerTests.commit(0x2000),
                ChangeAssemblerTests.begin(0x3000), Self.insert(["2", "b"]), ChangeAssemblerTests.commit(0x3000),
            ], &assembler)
        #expect(events.map { $0["op"] as? String } == ["s", "c"])
        #expect(events.map { $0["id"] as? String } == ["0/3000:0", "0/3000:1"])
    }

    @Test func truncateCarriesItsOptionsAndFollowsTheAnnouncement() throws {
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero, registry: SchemaRegistry())
        let events = try Self.run(
            [
                ChangeAssemblerTests.begin(0x2000), .relation(Self.v1),
                .truncate(Truncate(cascade: true, restartIdentity: false, relationOIDs: [Self.oid])),
                ChangeAssemblerTests.commit(0x2000),
            ], &assembler)
        #expect(events.map { $0["op"] as? String } == ["s", "t"])
        #expect(events[1]["cascade"] as? Bool == true)
        #expect(events[1]["restart_identity"] as? Bool == false)
    }
}
