// Decodes the messages PostgreSQL 15 streamed for
// Fixtures/protocol-v2-streaming.sql (proto_version 2, streaming on,
// logical_decoding_work_mem 64kB) and replays them the way the pipeline will:
// stage streamed changes per transaction, publish them on Stream Commit, and
// drop them (or a subtransaction's part) on Stream Abort. What survives must
// be exactly what the SQL committed.

import PgOutput
import PostgresWire
import Testing

@Suite("Recorded protocol version 2 with streaming")
struct RecordedStreamingTests {
    let recorded: [RecordedMessage]
    let messages: [PgOutputMessage]

    init() throws {
        recorded = try RecordedFixture.load("protocol-v2-streaming")
        var decoder = PgOutputDecoder(protocolVersion: 2)
        messages = try recorded.map { try decoder.decode($0.bytes) }
    }

    @Test func everyStreamMessageTypeIsPresent() {
        let ids = Set(messages.map(\.id))
        for id in [
            MessageID.streamStart, .streamStop, .streamCommit, .streamAbort, .begin, .commit,
            .relation, .type, .insert, .update, .delete, .truncate, .message,
        ] {
            #expect(ids.contains(id), "\(id.name)")
        }
    }

    /// Inside a block every data message names a transaction; outside, none.
    @Test func xidsAppearExactlyInsideStreamBlocks() throws {
        var block: StreamStart?
        var seenTransactions: Set<UInt32> = []
        for (message, row) in zip(messages, recorded) {
            switch message {
            case .streamStart(let start):
                #expect(block == nil)
                #expect(start.xid == row.xid, "line \(row.line)")
                #expect(start.isFirstSegment == !seenTransactions.contains(start.xid), "line \(row.line)")
                seenTransactions.insert(start.xid)
                block = start
            case .streamStop:
                #expect(block != nil)
                block = nil
            case .streamCommit(let commit):
                #expect(block == nil)
                #expect(commit.xid == row.xid)
                #expect(commit.endLSN == row.lsn, "line \(row.line): the peeked LSN of a commit is its end")
            case .streamAbort, .begin, .commit:
                #expect(block == nil, "line \(row.line)")
            default:
                let xid = try #require(dataXid(message), "line \(row.line): \(message.id.name)")
                if block != nil {
                    // A subtransaction's changes carry the subtransaction's xid.
                    #expect(xid != nil, "line \(row.line): streamed \(message.id.name) without xid")
                } else {
                    #expect(xid == nil, "line \(row.line): \(message.id.name) outside a block with xid")
                }
            }
        }
        // Three large transactions were streamed.
        #expect(seenTransactions.count == 3)
    }

    @Test func replayingTheStreamKeepsExactlyWhatCommitted() throws {
        var relations: [UInt32: Relation] = [:]
        var staged: [UInt32: [(xid: UInt32, change: PgOutputMessage)]] = [:]  // by top-level xid
        var current: UInt32?
        var inTransaction = false
        var published: [PgOutputMessage] = []
        var aborts: [StreamAbort] = []

        for message in messages {
            if case .relation(let relation) = message { relations[relation.oid] = relation }
            switch message {
            case .streamStart(let start): current = start.xid
            case .streamStop: current = nil
            case .streamCommit(let commit):
                published += (staged.removeValue(forKey: commit.xid) ?? []).map(\.change)
            case .streamAbort(let abort):
                aborts.append(abort)
                if abort.abortsTransaction {
                    staged[abort.xid] = nil
                } else {
                    staged[abort.xid]?.removeAll { $0.xid == abort.subtransactionXid }
                }
            case .begin: inTransaction = true
            case .commit: inTransaction = false
            case .insert, .update, .delete, .truncate:
                if let top = current {
                    staged[top, default: []].append((try #require(dataXid(message)) ?? top, message))
                } else {
                    #expect(inTransaction)
                    published.append(message)
                }
            default: break
            }
        }
        #expect(staged.isEmpty)
        #expect(aborts.count == 2)
        #expect(aborts.filter(\.abortsTransaction).count == 1)

        let big = try #require(relations.values.first { $0.name == "fx_big" })
        var payloads: [String: Int] = [:]
        var updates = 0
        var deletes = 0
        var truncates = 0
        for change in published {
            switch change {
            case .insert(let insert) where insert.relationOID == big.oid:
                guard case .text(let text) = insert.newTuple.columns[1] else { continue }
                let payload = text.utf8String.hasPrefix("row ") ? "row" : text.utf8String
                payloads[payload, default: 0] += 1
            case .update: updates += 1
            case .delete: deletes += 1
            case .truncate: truncates += 1
            default: break
            }
        }
        // From protocol-v2-streaming.sql: 2000 rows committed, the 1000
        // "gone" rows rolled back, 300 "kept" + 100 "kept too" committed
        // around 1200 "undone" rows rolled back to the savepoint.
        #expect(payloads == ["row": 2000, "kept": 300, "kept too": 100])
        #expect(updates == 600)
        #expect(deletes == 300)
        #expect(truncates == 1)
    }

    /// The xid of a data message (nil outside a streamed block); nil for others.
    private func dataXid(_ message: PgOutputMessage) -> UInt32?? {
        switch message {
        case .relation(let m): m.xid
        case .type(let m): m.xid
        case .insert(let m): m.xid
        case .update(let m): m.xid
        case .delete(let m): m.xid
        case .truncate(let m): m.xid
        case .message(let m): m.xid
        default: nil
        }
    }
}
