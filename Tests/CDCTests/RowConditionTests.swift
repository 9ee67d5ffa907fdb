// Row conditions without Postgres: the JSON form is read with an error per
// wrong field (SQL text, unknown operators and fields, missing or extra
// values, NUL characters refused), and the SQL is one quoted column, a fixed
// operator and typed literals per predicate, whatever the values hold. The
// literals of hostile values against a real server: RowConditionLiveTests.

import Foundation
import Testing

@testable import CDC

@Suite struct RowConditionTests {
    static func parse(_ json: String) -> (RowCondition?, [String]) {
        let value = try! JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        var errors: RowCondition.FieldErrors = []
        let condition = RowCondition.parse(value, field: "where", errors: &errors)
        return (condition, errors.map { "\($0.field): \($0.message)" })
    }

    @Test func everyOperatorReads() {
        let (condition, errors) = Self.parse(
            """
            [{"column": "region", "op": "=", "value": "eu"}, {"column": "n", "op": "<>", "value": 3},
             {"column": "n", "op": "<", "value": 2.5}, {"column": "n", "op": "<=", "value": -1},
             {"column": "n", "op": ">", "value": 1e3}, {"column": "ok", "op": ">=", "value": true},
             {"column": "d", "op": "is_null"}, {"column": "d", "op": "is_not_null", "value": null},
             {"column": "n", "op": "in", "value": [1, "2", false]}, {"column": "n", "op": "not_in", "value": [7]},
             {"column": "s", "op": "like", "value": "a%"}]
            """)
        #expect(errors.isEmpty, "\(errors)")
        let predicates = condition?.predicates ?? []
        #expect(
            predicates.map(\.op.rawValue) == [
                "=", "<>", "<", "<=", ">", ">=", "is_null", "is_not_null", "in", "not_in", "like",
            ])
        #expect(predicates[0].values == [.string("eu")] && predicates[1].values == [.number("3")])
        #expect(predicates[2].values == [.number("2.5")] && predicates[5].values == [.bool(true)])
        #expect(predicates[3].values == [.number("-1")] && predicates[4].values == [.number("1000")])
        #expect(predicates[6].values.isEmpty && predicates[7].values.isEmpty)
        #expect(predicates[8].values == [.number("1"), .string("2"), .bool(false)])
        #expect(condition?.columns == ["region", "n", "ok", "d", "s"])
    }

    @Test func sqlTextIsRefusedWithTheNewForm() {
        let (condition, errors) = Self.parse(#""region = 'eu'""#)
        #expect(condition == nil)
        #expect(errors.count == 1 && errors[0].hasPrefix("where: SQL text is not accepted"))
        #expect(errors[0].contains(#"[{"column": "region", "op": "=", "value": "eu"}]"#))
    }

    @Test(arguments: [
        (#"[]"#, "where: must be a non-empty list"),
        (#"{"column": "a", "op": "=", "value": 1}"#, "where: must be a non-empty list"),
        (#"[1]"#, "where[0]: must be an object"),
        (#"[{"column": "a", "op": "==", "value": 1}]"#, "where[0].op: must be one of =, <>, <, <=, >, >=, is_null"),
        (#"[{"column": "a", "op": "; DROP TABLE t", "value": 1}]"#, "where[0].op: must be one of"),
        (#"[{"column": "a", "value": 1}]"#, "where[0].op: must be one of"),
        (#"[{"op": "=", "value": 1}]"#, "where[0].column: must be the name"),
        (#"[{"column": "", "op": "=", "value": 1}]"#, "where[0].column: must be the name"),
        (#"[{"column": "a\u0000", "op": "=", "value": 1}]"#, "where[0].column: must be the name"),
        (#"[{"column": "a", "op": "=", "value": 1, "sql": "x"}]"#, "where[0].sql: is not a known field"),
        (#"[{"column": "a", "op": "="}]"#, "where[0].value: is required for =; to test for NULL use op is_null"),
        (#"[{"column": "a", "op": "=", "value": null}]"#, "where[0].value: is required for ="),
        (#"[{"column": "a", "op": "=", "value": [1]}]"#, "where[0].value: must be a string, a number or a boolean"),
        (#"[{"column": "a", "op": "=", "value": {"x": 1}}]"#, "where[0].value: must be a string, a number"),
        (#"[{"column": "a", "op": "is_null", "value": 1}]"#, "where[0].value: must be absent"),
        (#"[{"column": "a", "op": "in", "value": 1}]"#, "where[0].value: must be a list of 1 to 1000"),
        (#"[{"column": "a", "op": "in", "value": []}]"#, "where[0].value: must be a list of 1 to 1000"),
        (#"[{"column": "a", "op": "in", "value": [1, [2]]}]"#, "where[0].value[1]: must be a string"),
        (#"[{"column": "a", "op": "like", "value": 1}]"#, "where[0].value: must be a string pattern"),
        (#"[{"column": "a", "op": "=", "value": "x\u0000y"}]"#, "where[0].value: must not contain a NUL"),
        (#"[{"column": "a", "op": "in", "value": ["ok", "x\u0000"]}]"#, "where[0].value[1]: must not contain a NUL"),
    ])
    func wrongFieldsAreNamed(_ json: String, _ expected: String) {
        let (condition, errors) = Self.parse(json)
        #expect(condition == nil)
        #expect(errors.contains { $0.hasPrefix(expected) }, "\(errors)")
    }

    @Test func wholeNumbersAreIntegersAndLargeOnesKeepTheirDigits() {
        let (condition, _) = Self.parse(
            #"[{"column": "n", "op": "in", "value": [1000.0, 9007199254740993, 0.1, 1e20, -0.0]}]"#)
        #expect(
            condition?.predicates.first?.values == [
                .number("1000"), .number("9007199254740993"), .number("0.1"), .number("1e+20"), .number("0"),
            ])
    }

    @Test func aLongInListIsRefused() {
        let list = (0...RowCondition.maxListValues).map(String.init).joined(separator: ",")
        #expect(Self.parse(#"[{"column": "a", "op": "in", "value": [\#(list)]}]"#).0 == nil)
    }

    static let table = TableColumns(
        table: "public.t",
        columns: [
            .init(name: "id", type: "integer", inIdentity: true), .init(name: "we\"ird", type: "text"),
            .init(name: "amount", type: "numeric"),
        ])

    /// Standard SQL quoting; the live tests use libpq's.
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    @Test func theSQLHasQuotedColumnsFixedOperatorsAndTypedLiterals() throws {
        let condition = RowCondition([
            RowPredicate("id", .greaterOrEqual, .number("10")),
            RowPredicate("we\"ird", .equal, .string("'); DROP TABLE t; --")),
            RowPredicate(column: "amount", op: .in, values: [.number("1.5"), .string("2")]),
            RowPredicate(column: "we\"ird", op: .isNotNull),
            RowPredicate("we\"ird", .like, .string("a\\%")),
        ])
        let sql = try condition.sql(on: Self.table, literal: Self.literal)
        #expect(
            sql
                == #"("id" >= '10'::integer) AND ("we""ird" = '''); DROP TABLE t; --'::text) AND "#
                + #"("amount" IN ('1.5'::numeric, '2'::numeric)) AND ("we""ird" IS NOT NULL) AND ("we""ird" LIKE 'a\%'::text)"#
        )
    }

    @Test func anUnknownColumnNamesItAndTheTable() {
        #expect(throws: RowCondition.Mismatch.self) {
            try RowCondition([RowPredicate("nope", .equal, .number("1"))]).sql(on: Self.table, literal: Self.literal)
        }
        do {
            _ = try RowCondition([RowPredicate("ID", .equal, .number("1"))]).sql(on: Self.table, literal: Self.literal)
        } catch let mismatch as RowCondition.Mismatch {
            #expect(mismatch.column == "ID" && mismatch.table == "public.t")
            #expect(mismatch.message == #"public.t has no column "ID"; its columns are id, we"ird, amount"#)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func aRowFilterMayReadOnlyTheReplicaIdentity() {
        let onKey = RowCondition([RowPredicate("id", .greater, .number("1"))])
        let offKey = RowCondition([
            RowPredicate("id", .greater, .number("1")), RowPredicate("amount", .less, .number("5")),
        ])
        #expect(onKey.identityProblem(on: Self.table) == nil)
        #expect(
            offKey.identityProblem(on: Self.table)?.contains(#"reads "amount", outside its replica identity"#) == true)
        let full = TableColumns(table: "public.t", columns: Self.table.columns, identityFull: true)
        #expect(offKey.identityProblem(on: full) == nil)
    }

    @Test func storesOfEarlierBuildsDecodeAndRequestsMerge() {
        let old =
            #"[{"id":"bf_1","tables":["public.t"],"requestedAt":5,"state":"done","chunks":[1],"chunksDone":1,"rows":3}]"#
        let decoded = Backfill.decode(old)
        #expect(decoded.count == 1 && decoded[0].trigger == .request && decoded[0].conditions.isEmpty)
        #expect(decoded[0].predicates.isEmpty)
        let condition = RowCondition([RowPredicate("id", .greater, .number("1"))])
        var waiting = Backfill(
            id: "bf_2", tables: ["public.t"], requestedAt: 6, predicates: ["public.t": condition],
            conditions: ["public.t": #"("id" > '1'::integer)"#])
        waiting.maxRowsPerSecond = 10
        var running = Backfill(id: "bf_3", tables: ["public.t"], requestedAt: 7)
        running.state = .running
        let merged = Backfill.merge(
            decoded + [running],
            requests: [(waiting.encoded, false), (running.encoded, true), (decoded[0].encoded, true)])
        #expect(merged.map(\.id) == ["bf_1", "bf_3", "bf_2"])
        #expect(merged.map(\.cancelRequested) == [false, true, false], "a finished backfill is not cancelling")
        #expect(merged[2].state == .pending && merged[2].conditions == ["public.t": #"("id" > '1'::integer)"#])
        #expect(merged[2].predicates == ["public.t": condition])
        #expect(merged[2].maxRowsPerSecond == 10)
    }
}
