// Column masking without Postgres: which columns the patterns pick, the
// keyed hash (RFC 4231's vectors), and the events of a masked table, in the
// stream (key, before, after) and in the load, and its `s` event.

import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct ColumnMaskTests {
    static let relation = Relation(
        oid: 16_390, namespace: "app", name: "users", replicaIdentity: .full,
        columns: [
            .init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
            .init(isKey: true, name: "email", typeOID: 25, typeModifier: -1),
            .init(isKey: true, name: "ssn", typeOID: 25, typeModifier: -1),
            .init(isKey: true, name: "age", typeOID: 23, typeModifier: -1),
        ])
    static let mask = ColumnMask(
        exclude: ["app.users.ssn"], hash: ["email", "*.age"], hashKey: "a key of sixteen+ bytes")

    static func schema(mask: ColumnMask? = mask, key: [String] = ["id"]) -> TableSchema {
        TableSchema(relation: relation, kinds: [.integer, .text, .text, .integer], keyColumns: key, isCaptured: true)
            .masked(by: mask)
    }

    static func row(_ id: Int, _ email: String, _ ssn: String, _ age: Int?) -> TupleData {
        TupleData(columns: [
            .text(ArraySlice(String(id).utf8)), .text(ArraySlice(email.utf8)), .text(ArraySlice(ssn.utf8)),
            age.map { .text(ArraySlice(String($0).utf8)) } ?? .null,
        ])
    }

    static func hmac(_ text: String, key: String = "a key of sixteen+ bytes") -> String {
        let digest = Array(text.utf8).withUnsafeBytes { HMACKey(Array(key.utf8)).hexDigest($0) }
        return String(decoding: digest, as: UTF8.self)
    }

    static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
    }

    static let context = EventEncoder.TransactionContext(
        begin: Begin(finalLSN: LSN(0x2000), commitTime: PostgresTimestamp(rawValue: 0), xid: 9))

    @Test func patternsOfOneTwoAndThreePartsAndExcludeWinning() {
        let mask = ColumnMask(
            exclude: ["secret*", "app.users.ssn", "orders.card"], hash: ["email", "app.*.ssn", "*.*.phone"],
            hashKey: "k")
        #expect(mask.action(schema: "app", table: "users", column: "ssn") == .exclude)
        #expect(mask.action(schema: "other", table: "users", column: "ssn") == .keep)
        #expect(mask.action(schema: "app", table: "people", column: "ssn") == .hash)
        #expect(mask.action(schema: "x", table: "y", column: "secret_token") == .exclude)
        #expect(mask.action(schema: "x", table: "orders", column: "card") == .exclude)
        #expect(mask.action(schema: "x", table: "payments", column: "card") == .keep)
        #expect(mask.action(schema: "x", table: "y", column: "email") == .hash)
        #expect(mask.action(schema: "x", table: "y", column: "phone") == .hash)
        #expect(mask.action(schema: "x", table: "y", column: "name") == .keep)
        #expect(mask.table(schema: "x", table: "y", columns: ["id", "name"]) == nil)
    }

    /// RFC 4231, test cases 1 and 2.
    @Test func hmacSHA256MatchesTheRFCVectors() {
        #expect(
            Self.hmac("what do ya want for nothing?", key: "Jefe")
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let key = String(decoding: [UInt8](repeating: 0x0b, count: 20), as: UTF8.self)
        #expect(Self.hmac("Hi There", key: key) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(ColumnMask.generateKey().count == 64)
        #expect(ColumnMask.generateKey() != ColumnMask.generateKey())
    }

    @Test func aTableWithoutRulesIsNotMasked() {
        #expect(Self.schema(mask: nil).mask == nil)
        #expect(Self.schema(mask: ColumnMask(exclude: ["other.*"], hashKey: "k")).mask == nil)
        let schema = Self.schema()
        #expect(schema.mask?.excluded == ["ssn"])
        #expect(schema.mask?.hashed == ["email", "age"])
        #expect(schema.versioned(3).mask != nil)
        // The registry's columns: ssn gone, hashed columns as text.
        #expect(schema.columns.map(\.name) == ["id", "email", "age"])
        #expect(schema.columns.map(\.typeName) == ["", "text", "text"])
        #expect(schema.columns[2].typeOID == 25)
    }

    @Test func anUpdateIsMaskedInKeyBeforeAndAfter() throws {
        var encoder = EventEncoder(database: "app")
        let old = Self.row(1, "a@x", "123-45", 40)
        let new = Self.row(1, "b@x", "123-45", nil)
        let event = try Self.json(
            encoder.change(
                .update, schema: Self.schema(key: ["id", "email", "ssn"]), transaction: Self.context, lsn: LSN(0x1F00),
                ordinal: 0, old: .full(old), new: new))
        let key = event["key"] as! [String: Any]
        #expect(key.keys.sorted() == ["email", "id"])
        #expect(key["email"] as? String == Self.hmac("b@x"))
        let before = event["before"] as! [String: Any]
        #expect(before.keys.sorted() == ["age", "email", "id"])
        #expect(before["email"] as? String == Self.hmac("a@x"))
        #expect(before["age"] as? String == Self.hmac("40"))
        let after = event["after"] as! [String: Any]
        #expect(after["id"] as? Int == 1)
        #expect(after["email"] as? String == Self.hmac("b@x"))
        #expect(after["age"] is NSNull)
        #expect(after["ssn"] == nil)
        #expect(!String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self).contains("123-45"))
    }

    @Test func anUnchangedToastedHashedColumnComesFromTheOldImage() throws {
        var encoder = EventEncoder(database: "app")
        var new = Self.row(2, "", "9", 5)
        new.columns[1] = .unchangedToast
        let withOld = try Self.json(
            encoder.change(
                .update, schema: Self.schema(), transaction: Self.context, lsn: LSN(0x1F00), ordinal: 1,
                old: .full(Self.row(2, "long@x", "9", 5)), new: new))
        #expect((withOld["after"] as! [String: Any])["email"] as? String == Self.hmac("long@x"))
        let withoutOld = try Self.json(
            encoder.change(
                .update, schema: Self.schema(), transaction: Self.context, lsn: LSN(0x1F00), ordinal: 2, old: nil,
                new: new))
        #expect((withoutOld["after"] as! [String: Any])["email"] == nil)
        #expect(withoutOld["unchanged_toast"] as? [String] == ["email"])
    }

    @Test func aLoadedRowIsMaskedLikeAStreamedOne() throws {
        var encoder = EventEncoder(database: "app")
        var splitter = CopyTextFields()
        var out: [UInt8] = []
        let line = Array("7\tc@x\t555\t\\N\n".utf8)
        try line.withUnsafeBytes { raw in
            try splitter.withRow(raw, from: 0, columns: 4) { row in
                encoder.loadedRow(
                    row, schema: Self.schema(), transaction: EventEncoder.TransactionContext(snapshotAt: LSN(0x10)),
                    lsn: LSN(0x10), into: &out)
            }
        }
        let event = try Self.json(Array("{".utf8) + out.drop(while: { $0 != UInt8(ascii: ",") }).dropFirst())
        let after = event["after"] as! [String: Any]
        #expect(after.keys.sorted() == ["age", "email", "id"])
        #expect(after["email"] as? String == Self.hmac("c@x"))
        #expect(after["age"] is NSNull)
        #expect((event["key"] as! [String: Any])["id"] as? Int == 7)
        let streamed = try Self.json(
            encoder.change(
                .insert, schema: Self.schema(), transaction: Self.context, lsn: LSN(0x1F00), ordinal: 0, old: nil,
                new: Self.row(7, "c@x", "555", nil)))
        #expect(NSDictionary(dictionary: streamed["after"] as! [String: Any]).isEqual(to: after))
    }

    @Test func theSchemaEventSaysWhichColumnsAreMasked() throws {
        var encoder = EventEncoder(database: "app")
        let schema = Self.schema()
        let registry = SchemaRegistry()
        let version = try #require(
            registry.resolve(
                schema: "app", table: "users", relationOID: Self.relation.oid, columns: schema.columns
            ).announcement)
        let event = try Self.json(
            encoder.schemaChange(
                version, schema: schema.versioned(version.version), transaction: Self.context, lsn: LSN(0x1F00),
                ordinal: 0))
        let masked = try #require(event["masked"] as? [String: Any])
        #expect(masked["excluded"] as? [String] == ["ssn"])
        #expect(masked["hashed"] as? [String] == ["email", "age"])
        let columns = (event["schema"] as! [String: Any])["columns"] as! [[String: Any]]
        #expect(columns.map { $0["name"] as? String } == ["id", "email", "age"])
        #expect(columns[1]["type"] as? String == "text")
    }
}

extension ColumnMaskTests {
    /// DDL capture describes a masked table as its Relation messages do: an
    /// added column that is excluded makes no new version, and no `s` event
    /// names it.
    @Test func aDDLCommandOfAMaskedTableIsMaskedToo() throws {
        typealias S = SchemaAnnouncementTests
        let mask = ColumnMask(exclude: ["age"], hash: ["email"], hashKey: "k")
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero, registry: SchemaRegistry())
        assembler.columnMask = mask
        var events: [[String: Any]] = []
        let messages: [PgOutputMessage] = [
            ChangeAssemblerTests.begin(0x1000), .relation(S.v1), S.insert(["1", "a"]),
            ChangeAssemblerTests.commit(0x1000),
            ChangeAssemblerTests.begin(0x2000),
            DDLMessageTests.message(DDLMessageTests.command(DDLMessageTests.v2Columns)),
            ChangeAssemblerTests.commit(0x2000),
            ChangeAssemblerTests.begin(0x3000), .relation(S.v2), S.insert(["2", "b", "30"]),
            ChangeAssemblerTests.commit(0x3000),
        ]
        for message in messages {
            let outcome = try assembler.received(message, walStart: LSN(0x100))
            var records: [ChangeAssembler.Record] = []
            if case .event(let record) = outcome { records = [record] }
            if case .events(let all) = outcome { records = all }
            events += try records.map { try Self.json($0.body) }
            if case .needsSchema(let relation) = outcome { assembler.register(S.schema(relation).masked(by: mask)) }
        }
        #expect(events.map { $0["op"] as? String } == ["s", "c", "m", "c"])
        #expect((events[0]["masked"] as? [String: Any])?["hashed"] as? [String] == ["email"])
        let inserted = try #require(events[3]["after"] as? [String: Any])
        #expect(inserted.keys.sorted() == ["email", "id"])
        #expect((events[3]["source"] as? [String: Any])?["schema_version"] as? Int == 1)
    }
}
