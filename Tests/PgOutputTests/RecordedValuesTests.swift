// Converts every column value PostgreSQL 15 sent for Fixtures/values.sql and
// compares the JSON with the `expected` column beside it, which Postgres
// computed itself (mostly to_json(val); see values.sql for the deliberate
// differences). Type OIDs come from the recorded Relation and Type messages,
// resolved the way the pipeline resolves them.

import PgOutput
import PostgresWire
import Testing

@Suite("Recorded values")
struct RecordedValuesTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let table: String
        let label: String
        let kind: ValueKind
        let value: TupleValue
        let expected: String
        var testDescription: String { label }
    }

    /// Every recorded (val, expected) pair, with the kind the pipeline gives val.
    static func rows() throws -> [Row] {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        var relations: [UInt32: Relation] = [:]
        /// Kinds the catalog gives user-defined types (`CatalogLookup` in the pipeline).
        var custom: [UInt32: ValueKind] = [:]
        var types: [String: TypeInfo] = [:]
        var rows: [Row] = []
        for recorded in try RecordedFixture.load("values") {
            let message = try decoder.decode(recorded.bytes)
            switch message {
            case .type(let type):
                types[type.name] = type
            case .relation(let relation):
                relations[relation.oid] = relation
                let valOID = relation.columns.first { $0.name == "val" }?.typeOID ?? 0
                // What the pipeline learns from the catalog: this domain is an
                // int4 (the Type message names its base type), and this array's
                // elements are the fx_mood enum. fx_unmapped stays unknown.
                if relation.name == "t_domain_mapped", let type = types["int4"], type.oid == valOID {
                    custom[valOID] = ValueKind.builtin(name: type.name)
                }
                if relation.name == "t_enum_array", types["fx_mood"] != nil {
                    custom[valOID] = .array(element: .other)
                }
            case .insert(let insert):
                let relation = try #require(relations[insert.relationOID])
                let names = relation.columns.map(\.name)
                let label = try #require(names.firstIndex(of: "label"))
                let val = try #require(names.firstIndex(of: "val"))
                let expected = try #require(names.firstIndex(of: "expected"))
                guard case .text(let labelText) = insert.newTuple.columns[label],
                    case .text(let expectedText) = insert.newTuple.columns[expected]
                else {
                    Issue.record("\(relation.name): label or expected missing")
                    continue
                }
                rows.append(
                    Row(
                        table: relation.name, label: labelText.utf8String,
                        kind: custom[relation.columns[val].typeOID]
                            ?? ValueKind.builtin(oid: relation.columns[val].typeOID) ?? .other,
                        value: insert.newTuple.columns[val], expected: expectedText.utf8String))
            default:
                break
            }
        }
        return rows
    }

    @Test(arguments: try rows())
    func convertsLikePostgres(_ row: Row) throws {
        var writer = JSONWriter()
        try ValueConverter.writeJSON(row.value, kind: row.kind, into: &writer)
        #expect(writer.jsonString == row.expected, "\(row.kind)")
    }

    @Test func everyTypeOfValuesSQLIsCovered() throws {
        let rows = try Self.rows()
        let tables = Set(rows.map(\.table))
        // One table per fx_fill call in values.sql.
        let sql = try RecordedFixture.text("values", extension: "sql")
        #expect(tables.count == sql.components(separatedBy: "SELECT fx_fill('t_").count - 1)
        #expect(rows.count > tables.count * 2)
        // The kinds the registry resolved, for a few that matter.
        let kinds = Dictionary(rows.map { ($0.table, $0.kind) }, uniquingKeysWith: { first, _ in first })
        #expect(kinds["t_int4"] == .integer)
        #expect(kinds["t_numeric"] == .numeric)
        #expect(kinds["t_box_array"] == .array(element: .other, delimiter: UInt8(ascii: ";")))
        #expect(kinds["t_jsonb_array"] == .array(element: .json))
        #expect(kinds["t_domain_mapped"] == .integer)
        #expect(kinds["t_domain_unmapped"] == .other)
        #expect(kinds["t_enum_array"] == .array(element: .other))
        #expect(kinds["t_enum"] == .other)
    }
}
