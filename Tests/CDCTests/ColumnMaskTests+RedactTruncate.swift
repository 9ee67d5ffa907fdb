// The `redact` and `truncate` masks without Postgres: which rule wins, where
// a truncation cuts UTF-8 text, the events of a table with both masks (key,
// before, after, a loaded row, an unchanged TOASTed value) and its `s` event.

import EventStore
import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

extension ColumnMaskTests {
    static let masks = ColumnMask(
        hash: ["age"], redact: ["ssn", "*.age"], truncate: ["email": 3, "app.users.*": 5, "id": 1],
        hashKey: "a key of sixteen+ bytes")

    @Test func theMostProtectiveRuleWins() {
        let mask = ColumnMask(
            exclude: ["secret"], hash: ["h", "secret"], redact: ["r", "h"], truncate: ["t": 4, "*.t": 2, "r": 1],
            hashKey: "k")
        #expect(mask.action(schema: "s", table: "x", column: "secret") == .exclude)
        #expect(mask.action(schema: "s", table: "x", column: "h") == .redact)
        #expect(mask.action(schema: "s", table: "x", column: "r") == .redact)
        #expect(mask.action(schema: "s", table: "x", column: "t") == .truncate(2))
        #expect(mask.action(schema: "s", table: "x", column: "other") == .keep)
        #expect(mask.table(schema: "s", table: "x", columns: ["id", "other"]) == nil)
    }

    @Test func truncationCountsCodePointsAndNeverSplitsASequence() {
        func cut(_ text: String, _ count: Int) -> String {
            let bytes = Array(text.utf8)
            return String(decoding: bytes[..<UTF8Prefix.end(of: bytes, characters: count)], as: UTF8.self)
        }
        #expect(cut("héllo", 2) == "hé")
        #expect(cut("日本語テキスト", 3) == "日本語")
        #expect(cut("a😀b", 2) == "a😀")
        #expect(cut("a😀b", 1) == "a")
        #expect(cut("short", 10) == "short")
        #expect(cut("", 3) == "")
        // Bytes that are not UTF-8: a stray continuation byte starts nothing.
        let bytes: [UInt8] = [0x61, 0x80, 0x80, 0x62, 0x63]
        #expect(UTF8Prefix.end(of: bytes, characters: 2) == 4)
    }

    @Test func redactedAndTruncatedColumnsInAnUpdate() throws {
        var encoder = EventEncoder(database: "app")
        let schema = Self.schema(mask: Self.masks, key: ["id", "email", "ssn"])
        var new = Self.row(1234, "bé@exämple", "123-45", 40)
        new.columns[2] = .unchangedToast
        let event = try Self.json(
            encoder.change(
                .update, schema: schema, transaction: Self.context, lsn: LSN(0x1F00), ordinal: 0,
                old: .full(Self.row(1234, "añother", "123-45", nil)), new: new))
        let key = event["key"] as! [String: Any]
        #expect(key["id"] as? String == "1")
        #expect(key["email"] as? String == "bé@")
        #expect(key["ssn"] as? String == ColumnMask.placeholder)
        let before = event["before"] as! [String: Any]
        #expect(before["email"] as? String == "año")
        #expect(before["age"] is NSNull)
        let after = event["after"] as! [String: Any]
        #expect(after["age"] as? String == ColumnMask.placeholder)
        // Unchanged and TOASTed, yet redacted: the placeholder needs no value.
        #expect(after["ssn"] as? String == ColumnMask.placeholder)
        #expect(event["unchanged_toast"] == nil)
        let text = String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self)
        for original in ["123-45", "exämple", "añother"] { #expect(!text.contains(original)) }
    }

    @Test func aLoadedRowIsRedactedAndTruncatedLikeAStreamedOne() throws {
        var encoder = EventEncoder(database: "app")
        let schema = Self.schema(mask: Self.masks)
        var splitter = CopyTextFields()
        var out: [UInt8] = []
        let line = Array("77\tc@xyz\t555\t\\N\n".utf8)
        try line.withUnsafeBytes { raw in
            try splitter.withRow(raw, from: 0, columns: 4) { row in
                encoder.loadedRow(
                    row, schema: schema, transaction: EventEncoder.TransactionContext(snapshotAt: LSN(0x10)),
                    lsn: LSN(0x10), into: &out)
            }
        }
        let loaded = try Self.json(Array("{".utf8) + out.drop(while: { $0 != UInt8(ascii: ",") }).dropFirst())
        let streamed = try Self.json(
            encoder.change(
                .insert, schema: schema, transaction: Self.context, lsn: LSN(0x1F00), ordinal: 0, old: nil,
                new: Self.row(77, "c@xyz", "555", nil)))
        let after = loaded["after"] as! [String: Any]
        #expect(after["id"] as? String == "7")
        #expect(after["email"] as? String == "c@x")
        #expect(after["ssn"] as? String == ColumnMask.placeholder)
        #expect(after["age"] is NSNull)
        #expect(NSDictionary(dictionary: streamed["after"] as! [String: Any]).isEqual(to: after))
    }

    @Test func theSchemaEventTypesAndListsRedactedAndTruncatedColumns() throws {
        let schema = Self.schema(mask: Self.masks)
        // id is an integer cut in its text form: a string now; email was text already.
        #expect(schema.columns.map(\.typeOID) == [25, 25, 25, 25])
        #expect(schema.columns.map(\.typeName) == ["text", "", "text", "text"])
        var encoder = EventEncoder(database: "app")
        let version = try #require(
            SchemaRegistry().resolve(
                schema: "app", table: "users", relationOID: Self.relation.oid, columns: schema.columns
            ).announcement)
        let event = try Self.json(
            encoder.schemaChange(
                version, schema: schema.versioned(1), transaction: Self.context, lsn: LSN(0x1F00), ordinal: 0))
        let masked = try #require(event["masked"] as? [String: Any])
        #expect(masked["redacted"] as? [String] == ["ssn", "age"])
        #expect(masked["hashed"] as? [String] == [])
        #expect(masked["truncated"] as? [String: Int] == ["id": 1, "email": 3])
        #expect(masked["new_columns"] as? String == "include")
    }

    /// A pipeline record stored before these rules decodes with none of them,
    /// and the new ones round-trip.
    @Test func storedRulesDecodeOldAndNew() throws {
        let old = try JSONDecoder().decode(
            ColumnMask.self, from: Data(#"{"exclude":["ssn"],"hash":["email"],"hash_key":"k"}"#.utf8))
        #expect(old == ColumnMask(exclude: ["ssn"], hash: ["email"], hashKey: "k"))
        let new = ColumnMask(
            redact: ["r"], truncate: ["t": 3], keep: ["k"], newColumns: .exclude, hashKey: "0123456789abcdef")
        #expect(try JSONDecoder().decode(ColumnMask.self, from: JSONEncoder().encode(new)) == new)
    }
}
