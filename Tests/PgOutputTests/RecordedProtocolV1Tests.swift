// Decodes the messages PostgreSQL 15 sent for Fixtures/protocol-v1.sql and
// checks them against that SQL and against the LSNs and xids Postgres itself
// reported beside each message (pg_logical_slot_peek_binary_changes).

import PgOutput
import PostgresWire
import Testing

@Suite("Recorded protocol version 1")
struct RecordedProtocolV1Tests {
    let recorded: [RecordedMessage]
    let messages: [PgOutputMessage]

    init() throws {
        recorded = try RecordedFixture.load("protocol-v1")
        var decoder = PgOutputDecoder(protocolVersion: 1)
        messages = try recorded.map { try decoder.decode($0.bytes) }
    }

    private var relations: [String: Relation] {
        var byName: [String: Relation] = [:]
        for case .relation(let relation) in messages where byName[relation.name] == nil {
            byName[relation.name] = relation
        }
        return byName
    }

    /// Changes of table `name`, with the relation they were decoded against.
    private func changes(of name: String) -> [PgOutputMessage] {
        guard let oid = relations[name]?.oid else { return [] }
        return messages.filter {
            switch $0 {
            case .insert(let m): m.relationOID == oid
            case .update(let m): m.relationOID == oid
            case .delete(let m): m.relationOID == oid
            default: false
            }
        }
    }

    @Test func transactionsMatchWhatPostgresReported() throws {
        var begin: Begin?
        var transactions = 0
        for (message, row) in zip(messages, recorded) {
            switch message {
            case .begin(let b):
                #expect(begin == nil, "line \(row.line): Begin inside a transaction")
                #expect(b.xid == row.xid, "line \(row.line)")
                begin = b
            case .commit(let commit):
                let open = try #require(begin, "line \(row.line): Commit without Begin")
                #expect(commit.commitLSN == open.finalLSN, "line \(row.line)")
                #expect(commit.endLSN == row.lsn, "line \(row.line): the peeked LSN of a commit is its end")
                #expect(commit.commitTime == open.commitTime)
                #expect(commit.endLSN > commit.commitLSN)
                begin = nil
                transactions += 1
            case .message(let m) where !m.transactional:
                #expect(
                    begin == nil && row.xid == 0, "line \(row.line): non-transactional message outside a transaction")
            default:
                #expect(
                    begin != nil && row.xid == begin?.xid,
                    "line \(row.line): \(message.id.name) outside its transaction")
            }
        }
        #expect(begin == nil)
        // One per statement or transaction of protocol-v1.sql that changes
        // published tables (14); the ALTER TABLE sends nothing of its own, and
        // the non-transactional message none.
        #expect(transactions == 14)
    }

    @Test func everyVersion1MessageTypeIsPresent() {
        let ids = Set(messages.map(\.id))
        #expect(ids == [.begin, .commit, .origin, .relation, .type, .insert, .update, .delete, .truncate, .message])
    }

    @Test func relationsDescribeTheTables() throws {
        let full = try #require(relations["fx_full"])
        #expect(full.namespace == "public")
        #expect(full.replicaIdentity == .full)
        #expect(full.columns.map(\.name) == ["id", "name", "mood", "score"])
        // With REPLICA IDENTITY FULL every column is part of the identity.
        #expect(full.columns.allSatisfy { $0.isKey })
        #expect(full.columns[0].typeOID == 23)
        #expect(full.columns[1].typeOID == 25)
        #expect(full.columns.allSatisfy { $0.typeModifier == -1 })

        let keyed = try #require(relations["fx_keyed"])
        #expect(keyed.replicaIdentity == .default)
        #expect(keyed.columns.map(\.isKey) == [true, false])

        // Types: the enum by its own name; the domain by its base type's name
        // in pg_catalog (""), with the domain's own OID.
        let types = messages.compactMap { if case .type(let t) = $0 { t } else { nil } }
        let mood = try #require(types.first { $0.name == "fx_mood" })
        #expect(mood.namespace == "public")
        #expect(full.columns[2].typeOID == mood.oid)
        let domain = try #require(types.first { $0.oid == full.columns[3].typeOID })
        #expect(domain.namespace == "")
        #expect(domain.name == "int4")
    }

    @Test func schemaChangeSendsANewRelation() {
        let fullRelations = messages.compactMap {
            if case .relation(let r) = $0, r.name == "fx_full" { r } else { nil }
        }
        #expect(fullRelations.count == 2)
        #expect(fullRelations.last?.columns.map(\.name) == ["id", "name", "mood", "score", "extra"])
        #expect(fullRelations.last?.columns.last?.typeOID == 20)
        #expect(fullRelations.first?.oid == fullRelations.last?.oid)
    }

    @Test func insertsUpdatesAndDeletesWithFullIdentity() {
        let changes = changes(of: "fx_full")
        let expected: [PgOutputMessage] = [
            .insert(
                Insert(
                    relationOID: oid("fx_full"),
                    newTuple: TupleData(.text("1"), .text("alice"), .text("happy"), .text("7")))),
            .insert(
                Insert(relationOID: oid("fx_full"), newTuple: TupleData(.text("2"), .null, .text("sad"), .text("1")))),
            .update(
                Update(
                    relationOID: oid("fx_full"),
                    oldTuple: .full(TupleData(.text("1"), .text("alice"), .text("happy"), .text("7"))),
                    newTuple: TupleData(.text("1"), .text("alicia"), .text("happy"), .text("7")))),
            .delete(
                Delete(
                    relationOID: oid("fx_full"), oldTuple: .full(TupleData(.text("2"), .null, .text("sad"), .text("1")))
                )),
            .insert(
                Insert(
                    relationOID: oid("fx_full"),
                    newTuple: TupleData(.text("3"), .text("carol"), .text("ok"), .text("3"), .text("42")))),
        ]
        #expect(changes == expected)
    }

    @Test func keyChangeSendsTheOldKey() {
        let expected: [PgOutputMessage] = [
            .insert(Insert(relationOID: oid("fx_keyed"), newTuple: TupleData(.text("1"), .text("one")))),
            .update(
                Update(
                    relationOID: oid("fx_keyed"), oldTuple: .key(TupleData(.text("1"), .null)),
                    newTuple: TupleData(.text("10"), .text("one")))),
            .update(
                Update(relationOID: oid("fx_keyed"), oldTuple: nil, newTuple: TupleData(.text("10"), .text("ten")))),
            .delete(Delete(relationOID: oid("fx_keyed"), oldTuple: .key(TupleData(.text("10"), .null)))),
        ]
        #expect(changes(of: "fx_keyed") == expected)
    }

    @Test func unchangedToastIsMarked() {
        let expected: [PgOutputMessage] = [
            .insert(
                Insert(
                    relationOID: oid("fx_toast"),
                    newTuple: TupleData(.text("1"), .text(String(repeating: "x", count: 3000)), .text("0")))),
            .update(
                Update(
                    relationOID: oid("fx_toast"), oldTuple: nil,
                    newTuple: TupleData(.text("1"), .unchangedToast, .text("1")))),
        ]
        #expect(changes(of: "fx_toast") == expected)
    }

    @Test func truncates() {
        let truncates = messages.compactMap { if case .truncate(let t) = $0 { t } else { nil } }
        #expect(
            truncates == [
                Truncate(cascade: false, restartIdentity: false, relationOIDs: [oid("fx_keyed"), oid("fx_other")]),
                Truncate(cascade: true, restartIdentity: true, relationOIDs: [oid("fx_other")]),
            ])
    }

    @Test func logicalMessages() throws {
        let logical = messages.enumerated().compactMap { index, message in
            if case .message(let m) = message { (index, m) } else { nil }
        }
        #expect(logical.map(\.1.prefix) == ["fx", "fx"])
        #expect(logical.map(\.1.transactional) == [true, false])
        #expect(logical.map { $0.1.content.utf8String } == ["transactional", "not transactional"])
        // The message's own LSN is where Postgres reported it.
        for (index, message) in logical where !message.transactional {
            #expect(message.lsn == recorded[index].lsn)
        }
    }

    @Test func originCarriesTheReplayedCommit() throws {
        let index = try #require(messages.firstIndex { $0.id == .origin })
        #expect(messages[index] == .origin(Origin(commitLSN: LSN("0/ABCDEF0")!, name: "fx_origin")))
        // Sent right after Begin; pg_replication_origin_xact_setup also set
        // the commit time to the origin's, 2026-01-02 03:04:05+00.
        guard case .begin(let begin) = messages[index - 1] else {
            Issue.record("Origin should follow Begin")
            return
        }
        #expect(begin.commitTime.iso8601 == "2026-01-02T03:04:05.000000Z")
    }

    private func oid(_ table: String) -> UInt32 { relations[table]?.oid ?? 0 }
}
