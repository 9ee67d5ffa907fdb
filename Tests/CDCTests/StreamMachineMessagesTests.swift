// The user's logical messages through the stream machine, without Postgres:
// transactional ones in their place inside their transaction (streamed ones
// included), non-transactional ones as events of their own at their LSN,
// the prefix filter, popsink's own prefixes never passed, and a replay
// after a restart skipping what is stored.

import EventStore
import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct StreamMachineMessagesTests {
    typealias F = PgOutputFrames

    static func settings(_ prefixes: [String]) -> StreamMachine.Settings {
        var settings = StreamMachine.Settings()
        settings.messages = MessageFilter(prefixes: prefixes)
        return settings
    }

    @Test func filterPassesPrefixesItStartsAndNeverPopsinksOwn() {
        let filter = MessageFilter(prefixes: ["app.", "audit"])
        #expect(
            filter.passes(prefix: "app.orders") && filter.passes(prefix: "audit") && filter.passes(prefix: "auditor"))
        #expect(!filter.passes(prefix: "app") && !filter.passes(prefix: "other"))
        let everything = MessageFilter(prefixes: [""])
        #expect(everything.passes(prefix: "anything"))
        #expect(!everything.passes(prefix: DDLCapture.prefix) && !everything.passes(prefix: "popsink-load"))
        #expect(!MessageFilter.off.passes(prefix: "app.orders"))
    }

    @Test func transactionalMessagesAreEventsInTheirPlace() throws {
        var harness = MachineHarness(settings: Self.settings(["app."]))
        try harness.feed(F.begin(commit: 0x2000), at: 0x1f00)
        try harness.feed(F.relation(), at: 0x1f00)
        try harness.feed(F.insert(1), at: 0x1f10)
        try harness.feed(F.logical(prefix: "app.audit", content: "one", at: 0x1f20), at: 0x1f20)
        try harness.feed(F.logical(prefix: "other", content: "not passed", at: 0x1f28), at: 0x1f28)
        try harness.feed(F.logical(prefix: DDLCapture.prefix, content: "{}", at: 0x1f2c), at: 0x1f2c)
        try harness.feed(F.insert(2), at: 0x1f30)
        try harness.feed(F.commit(0x2000), at: 0x2000)
        try harness.drained()
        #expect(harness.stored == ["0/2000:0", "0/2000:1", "0/2000:2"])
        #expect(harness.storedOperations == ["c", "m", "c"])
    }

    @Test func nonTransactionalMessagesAreTheirOwnEventAtTheirLSN() throws {
        var harness = MachineHarness(settings: Self.settings(["app."]))
        try harness.feed(F.begin(commit: 0x2000), at: 0x1f00)
        try harness.feed(F.relation(), at: 0x1f00)
        try harness.feed(F.insert(1), at: 0x1f10)
        try harness.feed(F.commit(0x2000), at: 0x2000)
        try harness.feed(F.logical(prefix: "app.ping", content: "p", at: 0x2100, transactional: false), at: 0x2100)
        try harness.feed(F.logical(prefix: "other", content: "no", at: 0x2200, transactional: false), at: 0x2200)
        try harness.drained()
        #expect(harness.stored == ["0/2000:0", "0/2100:0"])
        #expect(harness.storedOperations == ["c", "m"])
        #expect(harness.checkpoint == Checkpoint(lastCommitLSN: LSN(0x2100), flushLSN: LSN(0x2100)))

        // Postgres sends again from the confirmed position: the stored message
        // is skipped, a new one is not.
        harness.restart(settings: Self.settings(["app."]))
        try harness.feed(F.logical(prefix: "app.ping", content: "p", at: 0x2100, transactional: false), at: 0x2100)
        try harness.feed(F.logical(prefix: "app.ping", content: "q", at: 0x2300, transactional: false), at: 0x2300)
        try harness.drained()
        #expect(harness.stored == ["0/2000:0", "0/2100:0", "0/2300:0"])
    }

    @Test func aMessageOfAStreamedTransactionIsStagedAndReplayedInPlace() throws {
        var harness = MachineHarness(settings: Self.settings(["app."]))
        try harness.feed(F.streamStart(xid: 9, first: true), at: 0x1000)
        try harness.feed(F.relation(xid: 9), at: 0x1000)
        try harness.feed(F.insert(1, xid: 9), at: 0x1010)
        try harness.feed(F.logical(prefix: "app.step", content: "mid", at: 0x1020, xid: 9), at: 0x1020)
        try harness.feed(F.insert(2, xid: 9), at: 0x1030)
        try harness.feed(F.streamStop(), at: 0x1040)
        // A non-transactional message between the chunks is not the transaction's.
        try harness.feed(F.logical(prefix: "app.ping", content: "p", at: 0x1100, transactional: false), at: 0x1100)
        try harness.feed(F.streamCommit(xid: 9, commit: 0x2000), at: 0x2000)
        try harness.drained()
        #expect(harness.stored == ["0/1100:0", "0/2000:0", "0/2000:1", "0/2000:2"])
        #expect(harness.storedOperations == ["m", "c", "m", "c"])
    }

    @Test func withTheFilterOffNoMessageIsAnEvent() throws {
        var harness = MachineHarness()
        try harness.feed(F.begin(commit: 0x2000), at: 0x1f00)
        try harness.feed(F.logical(prefix: "app.audit", content: "one", at: 0x1f20), at: 0x1f20)
        try harness.feed(F.commit(0x2000), at: 0x2000)
        try harness.feed(F.logical(prefix: "app.ping", content: "p", at: 0x2100, transactional: false), at: 0x2100)
        try harness.drained()
        #expect(harness.stored.isEmpty)
    }

    @Test func eventCarriesPrefixAndContentAsTextOrBase64() throws {
        var assembler = ChangeAssembler(
            database: "app", lastStoredCommit: .zero, messages: MessageFilter(prefixes: ["app."]))
        let text = LogicalMessage(
            transactional: false, lsn: LSN(0x3000), prefix: "app.t", content: ArraySlice("hé \"x\"".utf8))
        let binary = LogicalMessage(
            transactional: false, lsn: LSN(0x3100), prefix: "app.b", content: [0xff, 0x00, 0x41])
        var bodies: [[String: Any]] = []
        for message in [text, binary] {
            guard
                case .standalone(let record, let committed) = try assembler.received(
                    .message(message), walStart: message.lsn)
            else {
                Issue.record("no standalone event for \(message.prefix)")
                continue
            }
            #expect(committed.commitLSN == message.lsn && committed.events == 1)
            bodies.append(try #require(try JSONSerialization.jsonObject(with: Data(record.body)) as? [String: Any]))
        }
        #expect(bodies.map { $0["id"] as? String } == ["0/3000:0", "0/3100:0"])
        #expect(bodies.allSatisfy { $0["op"] as? String == "m" && $0["key"] is NSNull && $0["after"] is NSNull })
        let source = try #require(bodies.first?["source"] as? [String: Any])
        #expect(source["schema"] is NSNull && source["table"] is NSNull && source["txid"] is NSNull)
        #expect(source["commit_lsn"] as? String == "0/3000" && source["lsn"] as? String == "0/3000")
        #expect(source["commit_ts"] is NSNull && source["snapshot"] as? Bool == false)
        let first = try #require(bodies.first?["message"] as? [String: Any])
        #expect(first["prefix"] as? String == "app.t" && first["transactional"] as? Bool == false)
        #expect(first["content"] as? String == "hé \"x\"" && first["encoding"] as? String == "text")
        let second = try #require(bodies.last?["message"] as? [String: Any])
        #expect(second["content"] as? String == Data([0xff, 0x00, 0x41]).base64EncodedString())
        #expect(second["encoding"] as? String == "base64")
        // The same message decoded again (a replay) is stored already.
        #expect(try assembler.received(.message(binary), walStart: binary.lsn) == .none)
    }
}
