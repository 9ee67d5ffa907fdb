// The assembler on its own: messages in, events out, no Postgres.

import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct ChangeAssemblerTests {
    static let relation = Relation(
        oid: 16_384, namespace: "public", name: "users", replicaIdentity: .full,
        columns: [
            .init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
            .init(isKey: true, name: "email", typeOID: 25, typeModifier: -1),
        ])

    static func schema(captured: Bool = true) -> TableSchema {
        TableSchema(relation: relation, kinds: [.integer, .text], keyColumns: ["id"], isCaptured: captured)
    }

    static func row(_ id: Int, _ email: String) -> TupleData {
        TupleData(columns: [.text(ArraySlice(String(id).utf8)), .text(ArraySlice(email.utf8))])
    }

    static func begin(_ commit: UInt64, xid: UInt32 = 7) -> PgOutputMessage {
        .begin(Begin(finalLSN: LSN(commit), commitTime: PostgresTimestamp(rawValue: 0), xid: xid))
    }

    static func commit(_ commit: UInt64) -> PgOutputMessage {
        .commit(
            Commit(
                flags: 0, commitLSN: LSN(commit), endLSN: LSN(commit + 40), commitTime: PostgresTimestamp(rawValue: 0)))
    }

    /// Feeds messages, registering `schema` when asked; returns the events and outcomes.
    static func feed(
        _ messages: [PgOutputMessage], into assembler: inout ChangeAssembler, schema: TableSchema = schema()
    ) throws -> (events: [[String: Any]], outcomes: [ChangeAssembler.Outcome]) {
        try feed(messages, into: &assembler) { _ in schema }
    }

    /// Feeds messages, registering the schema `schema` gives for a relation
    /// when asked; returns the events, each with `_record` (its commit LSN
    /// and ordinal) and `_stores` (the schema version it stores, if any), and
    /// the outcomes.
    static func feed(
        _ messages: [PgOutputMessage], into assembler: inout ChangeAssembler, schema: (Relation) -> TableSchema
    ) throws -> (events: [[String: Any]], outcomes: [ChangeAssembler.Outcome]) {
        var events: [[String: Any]] = []
        var outcomes: [ChangeAssembler.Outcome] = []
        for message in messages {
            let outcome = try assembler.received(message, walStart: LSN(0x100))
            var records: [ChangeAssembler.Record] = []
            if case .event(let record) = outcome { records = [record] }
            if case .events(let all) = outcome { records = all }
            for record in records {
                var object = try JSONSerialization.jsonObject(with: Data(record.body)) as! [String: Any]
                object["_record"] = "\(record.commitLSN):\(record.ordinal)"
                object["_stores"] = record.newSchema?.version
                events.append(object)
            }
            if case .needsSchema(let relation) = outcome { assembler.register(schema(relation)) }
            outcomes.append(outcome)
        }
        return (events, outcomes)
    }

    @Test func producesOneEventPerChangeWithTransactionContext() throws {
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero)
        let (events, outcomes) = try Self.feed(
            [
                Self.begin(0x2000), .relation(Self.relation),
                .insert(Insert(relationOID: 16_384, newTuple: Self.row(1, "a@x"))),
                .update(Update(relationOID: 16_384, oldTuple: .full(Self.row(1, "a@x")), newTuple: Self.row(1, "b@x"))),
                .delete(Delete(relationOID: 16_384, oldTuple: .full(Self.row(1, "b@x")))),
                Self.commit(0x2000),
            ], into: &assembler)
        #expect(events.map { $0["op"] as? String } == ["c", "u", "d"])
        #expect(events.map { $0["id"] as? String } == ["0/2000:0", "0/2000:1", "0/2000:2"])
        #expect(events.map { $0["_record"] as? String } == ["0/2000:0", "0/2000:1", "0/2000:2"])
        #expect((events[1]["key"] as? [String: Any])?.keys.sorted() == ["id"])
        #expect((events[1]["before"] as? [String: Any])?["email"] as? String == "a@x")
        #expect(
            outcomes.last
                == .committed(
                    .init(
                        commitLSN: LSN(0x2000), endLSN: LSN(0x2000 + 40), commitTime: PostgresTimestamp(rawValue: 0),
                        events: 3, xid: 7)))
    }

    @Test func skipsTransactionsAtOrBelowTheStoredCommit() throws {
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: LSN(0x2000))
        let insert = PgOutputMessage.insert(Insert(relationOID: 16_384, newTuple: Self.row(1, "a@x")))
        let (events, outcomes) = try Self.feed(
            [
                .relation(Self.relation),
                Self.begin(0x1000), insert, Self.commit(0x1000),
                Self.begin(0x2000), insert, Self.commit(0x2000),
                Self.begin(0x3000), insert, Self.commit(0x3000),
            ], into: &assembler)
        #expect(events.map { $0["id"] as? String } == ["0/3000:0"])
        #expect(outcomes.filter { $0 == .skipped }.count == 2)
    }

    @Test func filteredTablesProduceNothingButTheTransactionStillCommits() throws {
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero)
        let (events, outcomes) = try Self.feed(
            [
                Self.begin(0x2000), .relation(Self.relation),
                .insert(Insert(relationOID: 16_384, newTuple: Self.row(1, "a@x"))),
                Self.commit(0x2000),
            ], into: &assembler, schema: Self.schema(captured: false))
        #expect(events.isEmpty)
        guard case .committed(let transaction) = outcomes.last else {
            Issue.record("expected a commit, got \(String(describing: outcomes.last))")
            return
        }
        #expect(transaction.events == 0)
    }

    @Test func rejectsMessagesOutOfOrder() {
        var assembler = ChangeAssembler(database: "app", lastStoredCommit: .zero)
        // A change for a relation never described.
        #expect(throws: ChangeAssembler.Failure.self) {
            try Self.feed(
                [Self.begin(0x2000), .insert(Insert(relationOID: 99, newTuple: Self.row(1, "a")))], into: &assembler)
        }
        var outside = ChangeAssembler(database: "app", lastStoredCommit: .zero)
        #expect(throws: ChangeAssembler.Failure.self) { try Self.feed([Self.commit(0x2000)], into: &outside) }
        var nested = ChangeAssembler(database: "app", lastStoredCommit: .zero)
        #expect(throws: ChangeAssembler.Failure.self) { try Self.feed([Self.begin(1), Self.begin(2)], into: &nested) }
        var streamed = ChangeAssembler(database: "app", lastStoredCommit: .zero)
        #expect(throws: ChangeAssembler.Failure.self) {
            try Self.feed([.streamStart(StreamStart(xid: 5, isFirstSegment: true))], into: &streamed)
        }
    }
}

@Suite struct FilterTests {
    @Test(arguments: [
        ("*", "anything", true), ("public.*", "public.users", true), ("public.*", "sales.users", false),
        ("user?", "users", true), ("user?", "user", false), ("a*b*c", "axxbyyc", true), ("a*b*c", "axxbyy", false),
        ("", "", true), ("", "x", false), ("**", "", true), ("order_*", "order_items", true),
    ])
    func globMatches(pattern: String, name: String, expected: Bool) {
        #expect(Glob(pattern).matches(name) == expected)
    }

    @Test func pathologicalPatternsStayFast() {
        let name = String(repeating: "a", count: 5000)
        #expect(!Glob(String(repeating: "a*", count: 50) + "b").matches(name))
    }

    @Test func includeAndExcludeCombine() {
        let filter = TableFilter(
            includeSchemas: ["public", "sales"], excludeSchemas: ["sales"],
            includeTables: ["users", "public.orders*"], excludeTables: ["orders_archive"])
        #expect(filter.selects(schema: "public", table: "users"))
        #expect(filter.selects(schema: "public", table: "orders"))
        #expect(!filter.selects(schema: "public", table: "orders_archive"))
        #expect(!filter.selects(schema: "sales", table: "users"))
        #expect(!filter.selects(schema: "other", table: "users"))
        #expect(TableFilter.all.selects(schema: "x", table: "y"))
    }

    @Test func retryDelaysGrowAndCap() {
        let policy = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1))
        #expect(
            (1...6).map { policy.delay(attempt: $0) }
                == [
                    .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1),
                    .seconds(1),
                ])
    }

    @Test func defaultSlotNamesAreValid() {
        #expect(PipelineConfig.defaultSlot(pipelineID: "orders_eu")?.rawValue == "popsink_orders_eu")
        #expect(PipelineConfig.defaultSlot(pipelineID: "Orders-EU")?.rawValue.hasPrefix("popsink_orders_eu_") == true)
        #expect(PipelineConfig.defaultSlot(pipelineID: String(repeating: "x", count: 100))?.rawValue.count == 63)
    }
}
