// End to end: every column type round-trips. A value written by SQL comes out
// of the pipeline as the JSON that DESIGN §5 promises for it.
//
// The expected JSON is computed by Postgres, not by our converter: each column
// says how, as a SQL expression over its value `v` (the convention of
// Tests/PgOutputTests/Fixtures/values.sql). Mostly that is `to_json(v)`;
// where DESIGN §5 deliberately differs from Postgres's own JSON, the
// difference is spelled out in the expression:
//   numeric, money, composite, range: the text as a JSON string (`v::text`);
//   oid: a number (`v::int8`), where to_json prints a string;
//   bytea: base64 without line breaks (rt_base64);
//   BC dates and timestamps: astronomical ISO 8601 years (rt_iso_year);
//   timestamptz: `Z` for the +00:00 that to_json prints in a UTC session (rt_utc_z);
//   timetz: offsets as ±HH:MM where to_json prints ±HH (rt_hh_mm).
// Both sides are parsed with Foundation and compared column by column, with
// strings compared by Unicode scalars and booleans kept apart from numbers.

import CDC
import Foundation
import PipelineTestSupport
import Testing

@Suite struct TypesRoundTripTests {
    /// One column of the table: its type, the values the insert and the
    /// update write (SQL expressions, cast to `type`), and the SQL expression
    /// over `v` that gives the JSON Postgres expects for it.
    struct Column: Sendable {
        let name: String
        let type: String
        let first: String
        let second: String
        let json: String

        init(_ name: String, _ type: String, _ first: String, _ second: String, json: String = "to_json(v)") {
            self.name = name
            self.type = type
            self.first = first
            self.second = second
            self.json = json
        }
    }

    static let columns: [Column] = [
        Column("c_int2", "int2", "32767", "-32768"),
        Column("c_int4", "int4", "2147483647", "-2147483648"),
        Column("c_int8", "int8", "9223372036854775807", "-9223372036854775808"),
        Column("c_oid", "oid", "4294967295", "0", json: "to_json(v::int8)"),
        Column("c_float4", "float4", "'0.3'", "'NaN'"),
        Column("c_float4_inf", "float4", "'Infinity'", "'-Infinity'"),
        Column("c_float8", "float8", "'-1.2345678901234567e-300'", "'NaN'"),
        Column("c_float8_inf", "float8", "'Infinity'", "'-Infinity'"),
        Column("c_float8_edge", "float8", "'5e-324'", "'-0'"),
        Column(
            "c_numeric", "numeric",
            "'1' || repeat('234567890', 11) || '.' || repeat('0', 40) || '1'", "'NaN'",
            json: "to_json(v::text)"),
        Column("c_numeric_inf", "numeric", "'Infinity'", "'-Infinity'", json: "to_json(v::text)"),
        Column("c_numeric_scale", "numeric(12,4)", "'1.5'", "'-0.00001'", json: "to_json(v::text)"),
        Column("c_bool", "bool", "true", "false"),
        Column(
            "c_text", "text",
            #"E'quote " backslash \\ slash / controls \x01\x02\x1f \b\f\n\r\t\x7f end'"#,
            #"E'unicode é ü 中文 😀 e\u0301 \u2028\u2029 end'"#),
        // Long enough to be TOASTed: old and new images carry it whole.
        Column(
            "c_text_long", "text", "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) AS g)",
            "repeat('é', 5000)"),
        Column("c_varchar", "varchar(40)", "'short'", #"E'tab\there, comma'"#),
        // bpchar keeps its padding in its output (bpcharout), and so in to_json.
        Column("c_bpchar", "char(6)", "'ab'", "'abcdef'"),
        Column("c_char", "\"char\"", "'x'", #"'"'"#),
        Column("c_name", "name", "'pg_class'", #"'With Space "q"'"#),
        Column(
            "c_bytea", "bytea", #"'\x00ff10'"#, "decode(repeat('0123456789abcdef', 20), 'hex')",
            json: "to_json(rt_base64(v))"),
        Column("c_bytea_short", "bytea", #"'\x'"#, #"'\xdeadbeef01'"#, json: "to_json(rt_base64(v))"),
        Column(
            "c_json", "json",
            #"'{"a": [1, 2.5, "x\u0001"], "b": null, "c": {"d": "é"}}'"#, #"E' {\n "spaced" : true }'"#,
            json: "v"),
        Column("c_json_scalar", "json", #"'"str"'"#, "'-1.5e3'", json: "v"),
        Column(
            "c_jsonb", "jsonb",
            #"'{"b": 2, "a": [true, {"c": "é\n"}], "n": -1.5e3, "ключ 🔑": "\u2028"}'"#, "'[]'", json: "v::json"),
        Column("c_uuid", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12'"),
        Column(
            "c_date", "date", "'2026-02-28'", "'0044-03-15 BC'",
            json: "rt_iso_year(to_json(v), extract(year FROM v))"),
        Column("c_date_inf", "date", "'infinity'", "'-infinity'"),
        Column("c_time", "time", "'10:00:00.5'", "'24:00:00'"),
        Column("c_timetz", "timetz", "'10:00:00+02'", "'00:00:00.123456-03:30'", json: "rt_hh_mm(to_json(v))"),
        Column("c_timetz_utc", "timetz", "'23:59:59+00'", "'12:00:00+05:45'", json: "rt_hh_mm(to_json(v))"),
        Column(
            "c_timestamp", "timestamp", "'2026-11-24 10:00:00.123456'", "'0044-03-15 10:00:00.5 BC'",
            json: "rt_iso_year(to_json(v), extract(year FROM v))"),
        Column("c_timestamp_inf", "timestamp", "'infinity'", "'-infinity'"),
        Column(
            "c_timestamptz", "timestamptz", "'2026-11-24 12:00:00.5+02'", "'1800-01-01 00:00:00+00'",
            json: "rt_utc_z(to_json(v))"),
        Column("c_timestamptz_inf", "timestamptz", "'infinity'", "'-infinity'"),
        Column("c_interval", "interval", "'1 year 2 mons 3 days 04:05:06.5'", "'-1 mon +2 days -00:00:01.5'"),
        Column("c_inet", "inet", "'192.168.0.1/24'", "'::1'"),
        Column("c_cidr", "cidr", "'10.0.0.0/8'", "'2001:db8::/32'"),
        Column("c_macaddr", "macaddr", "'08:00:2b:01:02:03'", "'08-00-2B-01-02-0F'"),
        Column("c_bit", "bit(5)", "B'10101'", "B'00000'"),
        Column("c_varbit", "varbit", "''", "'110011'"),
        Column("c_money", "money", "'1234.56'", "'-0.5'", json: "to_json(v::text)"),
        Column("c_mood", "mood", "'happy'", #"'so-so, "really" \ maybe'"#),
        // to_json resolves a domain to its base type too: a number.
        Column("c_posint", "posint", "7", "2147483647"),
        Column("c_label", "label", "'x'", #"E'multi\nline'"#),
        Column("c_pair", "pair", #"'(1,"a b")'"#, "'(,)'", json: "to_json(v::text)"),
        Column("c_range", "int4range", "'[1,10)'", "'empty'", json: "to_json(v::text)"),
        Column("c_tstzrange", "tstzrange", "'[2026-01-01 00:00:00+00,infinity)'", "'(,)'", json: "to_json(v::text)"),
        Column("c_multirange", "int4multirange", "'{[1,3),[5,7)}'", "'{}'", json: "to_json(v::text)"),

        // Arrays: nested per dimension, bounds dropped, each element by its type.
        Column("c_int4_arr", "int4[]", "'{{1,NULL},{NULL,4}}'", "'[0:2]={1,NULL,3}'"),
        Column("c_int4_arr3", "int4[]", "'{{{1}},{{2}}}'", "'{}'"),
        Column("c_int2_arr", "int2[]", "'{-1,NULL,32767}'", "'{{1,2},{3,4}}'"),
        Column("c_int8_arr", "int8[]", "'{9223372036854775807,-9223372036854775808}'", "'{NULL}'"),
        Column("c_oid_arr", "oid[]", "'{0,4294967295}'", "'{{1},{2}}'", json: "to_json(v::int8[])"),
        Column("c_float4_arr", "float4[]", "'{1.5,NaN,-Infinity,NULL}'", "'{Infinity,0.1,1e-45,3.4028235e38}'"),
        Column("c_float8_arr", "float8[]", "'{{0.1,NaN},{Infinity,NULL}}'", "'{5e-324,1e308,-0}'"),
        Column(
            "c_numeric_arr", "numeric[]", "'{1.5,NaN,NULL,12345678901234567890.000000001}'",
            "'{{1,-Infinity},{Infinity,NULL}}'", json: "to_json(v::text[])"),
        Column("c_bool_arr", "bool[]", "'{t,f,NULL}'", "'{{t},{f}}'"),
        Column(
            "c_text_arr", "text[]",
            #"'{"a b","c\"d",NULL,"NULL","",null,"back\\slash","{}","x,y","é",plain}'"#,
            #"ARRAY[E'new\nline', 'comma,here', 'quote"here', E'back\\slash', '{braces}', ' ', '', NULL, 'NULL', 'null', E'\x01ctl \u2028 😀']"#
        ),
        Column("c_text_arr2", "text[]", #"'{{a,"b,c"},{"d\"e",NULL}}'"#, #"'{{" lead","trail "}}'"#),
        Column("c_varchar_arr", "varchar(10)[]", #"'{x,"y z"}'"#, #"'{"",NULL}'"#),
        Column("c_bpchar_arr", "char(3)[]", "'{a,bcd}'", "'{{x},{NULL},{é}}'"),
        Column("c_char_arr", "\"char\"[]", #"'{a,",","\""}'"#, #"'{"\\"}'"#),
        Column("c_name_arr", "name[]", #"'{pg_class,"a b"}'"#, "'{}'"),
        Column(
            "c_bytea_arr", "bytea[]", #"'{"\\x0102",NULL,"\\x","\\xdeadbeef"}'"#,
            "ARRAY['\\x00'::bytea, decode(repeat('ff', 60), 'hex')]",
            json: """
                CASE WHEN v IS NOT NULL THEN
                  to_json(ARRAY(SELECT rt_base64(x) FROM unnest(v) WITH ORDINALITY AS u(x, n) ORDER BY n)) END
                """),
        Column("c_json_arr", "json[]", #"'{"{\"a\" : 1}","[1, \"x\"]",NULL,"\"s\""}'"#, #"'{"null",NULL}'"#),
        Column("c_jsonb_arr", "jsonb[]", #"'{"{\"a\": 1}","[1, \"x\\\\y\"]",NULL,"\"s\""}'"#, "'{{1},{2}}'"),
        Column("c_uuid_arr", "uuid[]", "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'", "'{}'"),
        Column("c_date_arr", "date[]", "'{2026-11-24,infinity,NULL,-infinity}'", "'{{2000-01-01},{5874897-12-31}}'"),
        Column("c_time_arr", "time[]", "'{10:00:00.5,NULL}'", "'{00:00:00}'"),
        Column(
            "c_timetz_arr", "timetz[]", "'{10:00:00+02,11:00:00-03:30}'", "'{00:00:00+00,NULL}'",
            json: "rt_hh_mm(to_json(v))"),
        Column(
            "c_timestamp_arr", "timestamp[]", #"'{"2026-11-24 10:00:00.5",infinity,NULL}'"#,
            #"'{-infinity,"294276-12-31 23:59:59.999999"}'"#),
        Column(
            "c_timestamptz_arr", "timestamptz[]",
            #"'{"2026-11-24 10:00:00.5+00","2026-01-01 00:00:00+05",-infinity}'"#, "'{NULL,infinity}'",
            json: "rt_utc_z(to_json(v))"),
        Column("c_interval_arr", "interval[]", #"'{P1D,"-1 days",NULL}'"#, #"'{"1 year 2 mons"}'"#),
        Column("c_inet_arr", "inet[]", "'{192.168.0.1/24,::1}'", "'{NULL}'"),
        Column("c_cidr_arr", "cidr[]", "'{10.0.0.0/8}'", "'{2001:db8::/32}'"),
        Column("c_macaddr_arr", "macaddr[]", "'{08:00:2b:01:02:03}'", "'{}'"),
        Column("c_bit_arr", "bit(2)[]", "'{10,01}'", "'{{11},{00}}'"),
        Column("c_varbit_arr", "varbit[]", #"'{1,"",0101}'"#, "'{NULL}'"),
        Column("c_money_arr", "money[]", "'{1.5,-2}'", "'{1000000}'", json: "to_json(v::text[])"),
        Column("c_mood_arr", "mood[]", #"'{sad,NULL,"so-so, \"really\" \\ maybe"}'"#, "'{happy}'"),
        Column("c_posint_arr", "posint[]", "'{1,NULL,3}'", "'{{4},{5}}'"),
        Column("c_int_list", "int_list", "'{1,2}'", "'{}'"),
        Column("c_label_arr", "label[]", #"'{"a,b",NULL,"{x}"}'"#, #"'{"\\"}'"#),
        Column("c_pair_arr", "pair[]", #"'{"(1,\"a b\")","(,)"}'"#, "'{NULL}'", json: "to_json(v::text[])"),
        Column("c_range_arr", "int4range[]", #"'{"[1,3)",empty}'"#, "'{NULL}'", json: "to_json(v::text[])"),
        // box is the one built-in type whose array delimiter is ';'.
        Column("c_box_arr", "box[]", "'{(1,1),(0,0);(3,3),(2,2)}'", "'{(4,4),(0,0)}'", json: "to_json(v::text[])"),
    ]

    /// Types, and the functions that spell out where DESIGN §5 differs from to_json.
    static let setup = """
        CREATE TYPE mood AS ENUM ('sad', 'happy', 'so-so, "really" \\ maybe');
        CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
        CREATE DOMAIN label AS text;
        CREATE DOMAIN int_list AS int4[];
        CREATE DOMAIN area AS box;
        CREATE TYPE pair AS (a int, b text);

        -- to_json prints a BC year as "0044-03-15 BC"; ISO 8601 numbers years
        -- astronomically (1 BC is 0000, 44 BC is -0043). plpgsql, so the
        -- planner cannot fold the BC branch for infinity.
        CREATE FUNCTION rt_iso_year(j json, year numeric) RETURNS json
        LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN CASE WHEN j::text LIKE '% BC"' THEN
            '"' || CASE WHEN year < -1 THEN '-' ELSE '' END
                || lpad((-year - 1)::bigint::text, 4, '0')
                || substring(j::text FROM '^"\\d+(.*) BC"$') || '"'
          ELSE j::text END; END
        $$;
        CREATE FUNCTION rt_utc_z(j json) RETURNS json
        LANGUAGE sql IMMUTABLE AS $$ SELECT regexp_replace(j::text, '\\+00:00(")', 'Z\\1', 'g')::json $$;
        CREATE FUNCTION rt_hh_mm(j json) RETURNS json
        LANGUAGE sql IMMUTABLE AS $$ SELECT regexp_replace(j::text, '([+-]\\d\\d)(")', '\\1:00\\2', 'g')::json $$;
        CREATE FUNCTION rt_base64(b bytea) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$ SELECT translate(encode(b, 'base64'), E'\\n', '') $$;
        """

    @Test func everyTypeRoundTripsThroughInsertUpdateAndDelete() throws {
        let table = RoundTripTable(name: "every_type", columns: Self.columns)
        let harness = try CaptureHarness(setup: Self.setup + table.create)
        defer { harness.cleanUp() }
        try harness.capture()  // creates the slot

        // Row 1: first values, then second values. Row 2: NULL in every
        // column, then the first values. Then both are deleted.
        try harness.execute(table.insert(id: 1, second: false) + "INSERT INTO every_type (id) VALUES (2);")
        let inserted = [try table.expectedImage(of: 1, in: harness), try table.expectedImage(of: 2, in: harness)]
        try harness.execute(table.update(id: 1, second: true) + table.update(id: 2, second: false))
        let updated = [try table.expectedImage(of: 1, in: harness), try table.expectedImage(of: 2, in: harness)]
        try harness.execute("DELETE FROM every_type WHERE id = 1; DELETE FROM every_type WHERE id = 2;")
        try harness.capture()

        let events = try harness.events()
        try #require(events.map(\.op) == ["c", "c", "u", "u", "d", "d"])
        let expected: [(before: [String: JSONValue]?, after: [String: JSONValue]?)] = [
            (nil, inserted[0]), (nil, inserted[1]),
            (inserted[0], updated[0]), (inserted[1], updated[1]),
            (updated[0], nil), (updated[1], nil),
        ]
        for (event, images) in zip(events, expected) {
            let label = "\(event.op) of row \(intValue(event.key?["id"]) ?? -1)"
            try table.compare(event.json["before"], images.before, "\(label), before")
            try table.compare(event.json["after"], images.after, "\(label), after")
        }
    }

    /// The snapshot reads rows with COPY, not pgoutput: the same values
    /// must come out the same way.
    @Test func everyTypeLoadsThroughTheSnapshot() throws {
        let table = RoundTripTable(name: "every_type", columns: Self.columns)
        let harness = try CaptureHarness(setup: Self.setup + table.create)
        defer { harness.cleanUp() }
        try harness.execute(
            table.insert(id: 1, second: false) + "INSERT INTO every_type (id) VALUES (2);"
                + table.insert(id: 3, second: true))
        let expected = try [1, 2, 3].map { try table.expectedImage(of: $0, in: harness) }
        try harness.capture()

        let events = try harness.events()
        try #require(events.map(\.op) == ["r", "r", "r"])
        for event in events {
            let id = try #require(intValue(event.key?["id"]))
            try table.compare(event.json["after"], expected[id - 1], "row \(id) of the snapshot")
        }
    }

    /// An array's elements are split on the element type's `typdelim`; a
    /// domain over box inherits box's `;`, which the catalog must report.
    @Test func arrayOfADomainOverBoxSplitsOnSemicolons() throws {
        let table = RoundTripTable(
            name: "areas",
            columns: [
                Column("c_area", "area", "'(1,1),(0,0)'", "'(2,2),(1,1)'", json: "to_json(v::text)"),
                Column(
                    "c_area_arr", "area[]", "'{(1,1),(0,0);(3,3),(2,2)}'", "'{(4,4),(0,0)}'",
                    json: "to_json(v::text[])"),
            ])
        let harness = try CaptureHarness(setup: Self.setup + table.create)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute(table.insert(id: 1, second: false))
        let expected = try table.expectedImage(of: 1, in: harness)
        try harness.capture()
        let event = try #require(try harness.events().first)
        try table.compare(event.json["after"], expected, "insert")
    }
}

/// A table of `Column`s with a primary key `id`, and the SQL that writes it
/// and computes the expected JSON of its rows.
struct RoundTripTable {
    typealias Column = TypesRoundTripTests.Column

    let name: String
    let columns: [Column]

    var create: String {
        """
        CREATE TABLE \(name) (id int PRIMARY KEY, \(columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ")));
        ALTER TABLE \(name) REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE \(name);
        """
    }

    private var names: String { columns.map(\.name).joined(separator: ", ") }

    /// The first or second values of every column, cast to its type.
    private func values(second: Bool) -> String {
        columns.map { "(\(second ? $0.second : $0.first))::\($0.type)" }.joined(separator: ", ")
    }

    func insert(id: Int, second: Bool) -> String {
        "INSERT INTO \(name) (id, \(names)) VALUES (\(id), \(values(second: second)));\n"
    }

    func update(id: Int, second: Bool) -> String {
        "UPDATE \(name) SET (\(names)) = (\(values(second: second))) WHERE id = \(id);\n"
    }

    /// The JSON Postgres expects for each column of row `id`, as it is now:
    /// one row per column, its expression evaluated with `v` bound to the value.
    func expectedImage(of id: Int, in harness: CaptureHarness) throws -> [String: JSONValue] {
        let entries = ([Column("id", "int", "", "")] + columns).map { column in
            "('\(column.name)', (SELECT \(column.json) FROM (SELECT t.\(column.name) AS v) AS s))"
        }
        let result = try harness.execute(
            """
            SELECT c.name, coalesce(c.json::text, 'null') AS json
            FROM \(name) AS t CROSS JOIN LATERAL (VALUES \(entries.joined(separator: ",\n"))) AS c(name, json)
            WHERE t.id = \(id)
            """)
        #expect(result.rows.count == columns.count + 1, "row \(id) not found")
        var image: [String: JSONValue] = [:]
        for row in result.rows {
            let name = try #require(row[0])
            let text = try #require(row[1])
            image[name] = try JSONValue(parsing: text)
        }
        return image
    }

    /// Compares an event's image with the expected one, column by column.
    func compare(
        _ image: Any?, _ expected: [String: JSONValue]?, _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        guard let expected else {
            #expect(image is NSNull, "\(label): expected null", sourceLocation: sourceLocation)
            return
        }
        let actual = try #require(image as? [String: Any], "\(label): not an object", sourceLocation: sourceLocation)
        #expect(Set(actual.keys) == Set(expected.keys), "\(label): columns differ", sourceLocation: sourceLocation)
        for name in ["id"] + columns.map(\.name) {
            let value = try JSONValue(actual[name])
            #expect(value == expected[name], "\(label), column \(name)", sourceLocation: sourceLocation)
        }
    }
}

/// A parsed JSON value compared exactly: strings by Unicode scalars (Swift's
/// String equality would take "é" for "e\u{301}"), numbers by the value
/// Foundation parsed, booleans apart from numbers (on every platform
/// JSONSerialization gives both as NSNumber; a boolean's objCType is "c").
indirect enum JSONValue: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(String)
    case string([Unicode.Scalar])
    case array([JSONValue])
    case object([String: JSONValue])

    init(parsing text: String) throws {
        try self.init(JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
    }

    init(_ value: Any?) throws {
        switch value {
        case nil, is NSNull:
            self = .null
        case let text as String:
            self = .string(Array(text.unicodeScalars))
        case let decimal as NSDecimalNumber:
            self = .number("\(decimal.decimalValue)")
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c": self = .bool(number.boolValue)
            case "d", "f": self = .number("\(number.doubleValue)")
            case "Q": self = .number("\(number.uint64Value)")
            default: self = .number("\(number.int64Value)")
            }
        case let array as [Any]:
            self = .array(try array.map { try JSONValue($0) })
        case let object as [String: Any]:
            self = .object(try object.mapValues { try JSONValue($0) })
        default:
            throw JSONValueError(description: "not a JSON value: \(String(describing: value))")
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let text): text
        case .string(let scalars):
            "\"" + scalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : $0.escaped(asASCII: true) }.joined()
                + "\""
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        }
    }
}

struct JSONValueError: Error, CustomStringConvertible {
    let description: String
}
