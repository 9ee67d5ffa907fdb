// The lexical check of a backfill's condition: text that stays one
// expression inside the parentheses it is put in passes (quotes of every
// kind may hold any character); text that could close them, end the
// statement or hide the rest of the query in a comment does not.

import Testing

@testable import CDC

@Suite struct BackfillConditionTests {
    @Test(arguments: [
        "id > 1",
        "(a > 1) AND (b < 2 OR c IS NULL)",
        "name = 'a;b'",
        "name = 'it''s )'",
        "\"we;ird)\" = 1",
        "x = $$a)b;--$$",
        "x = $t$ ) -- $t$",
        "x = E'\\') -- '",
        "x = ANY ($1)",
        "created_at > now() - interval '1 day'",
        "id IN (SELECT id FROM other)",
    ])
    func oneExpressionPasses(_ condition: String) {
        #expect(BackfillCondition.lexicalProblem(condition) == nil)
    }

    @Test(arguments: [
        "1=1) UNION SELECT 1 FROM u WHERE (true",
        "true; DROP TABLE t",
        "true -- hides the rest",
        "true /* hides */",
        "((true)",
        "true)",
        "x = 'unclosed",
        "\"unclosed = 1",
        "x = $$open",
        "x = 'a\\') OR (true'",
        "(true\u{0}) UNION SELECT 1, 2 FROM u WHERE (true)",
        "(x = '\u{0}') UNION SELECT 1, 2 FROM u WHERE (true)",
        "",
        "   ",
    ])
    func textThatCouldLeaveItsParenthesesIsRefused(_ condition: String) {
        #expect(BackfillCondition.lexicalProblem(condition) != nil)
    }

    @Test func theTableNameIsQuoted() {
        #expect(BackfillCondition.qualified("public.my\"table") == "\"public\".\"my\"\"table\"")
        #expect(BackfillCondition.qualified("s.t.u") == "\"s\".\"t.u\"")
    }

    @Test func storesOfEarlierBuildsDecodeAndRequestsMerge() {
        let old =
            #"[{"id":"bf_1","tables":["public.t"],"requestedAt":5,"state":"done","chunks":[1],"chunksDone":1,"rows":3}]"#
        let decoded = Backfill.decode(old)
        #expect(decoded.count == 1 && decoded[0].trigger == .request && decoded[0].conditions.isEmpty)
        var waiting = Backfill(id: "bf_2", tables: ["public.t"], requestedAt: 6, conditions: ["public.t": "id > 1"])
        waiting.maxRowsPerSecond = 10
        var running = Backfill(id: "bf_3", tables: ["public.t"], requestedAt: 7)
        running.state = .running
        let merged = Backfill.merge(
            decoded + [running],
            requests: [(waiting.encoded, false), (running.encoded, true), (decoded[0].encoded, true)])
        #expect(merged.map(\.id) == ["bf_1", "bf_3", "bf_2"])
        #expect(merged.map(\.cancelRequested) == [false, true, false], "a finished backfill is not cancelling")
        #expect(merged[2].state == .pending && merged[2].conditions == ["public.t": "id > 1"])
        #expect(merged[2].maxRowsPerSecond == 10)
    }
}
