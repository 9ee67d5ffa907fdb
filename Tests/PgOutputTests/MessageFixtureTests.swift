// Every message type from bytes built field by field: the good message, every
// truncation of it, and malformed variants, each with the error it must give.

import PgOutput
import PostgresWire
import Testing

struct MessageCase: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let expected: PgOutputMessage
    /// Decode inside a Stream Start … Stop block (protocol version 2).
    var inStream = false
    var protocolVersion = 1
    /// Variants with a bad field, and the reason each must be rejected with.
    var malformed: [([UInt8], PgOutputError.Reason)] = []
    /// Prefix lengths that are themselves a valid message.
    var validPrefixLengths: Set<Int> = []

    var testDescription: String { name }

    func decoder() throws -> PgOutputDecoder {
        var decoder = PgOutputDecoder(protocolVersion: inStream ? max(2, protocolVersion) : protocolVersion)
        if inStream {
            _ = try decoder.decode(MessageBytes.build("S") { $0.u32(900).u8(1) })
        }
        return decoder
    }
}

let commitTime = PostgresTimestamp(rawValue: 817_000_000_123_456)

let messageCases: [MessageCase] = [
    MessageCase(
        name: "Begin",
        bytes: MessageBytes.build("B") { $0.u64(0x16B_3748).u64(UInt64(commitTime.rawValue)).u32(751) },
        expected: .begin(Begin(finalLSN: LSN(0x16B_3748), commitTime: commitTime, xid: 751)),
        malformed: [
            (MessageBytes.build("B") { $0.u64(1).u64(2).u32(3).u8(0) }, .trailingBytes(offset: 21, count: 1))
        ]),
    MessageCase(
        name: "Commit",
        bytes: MessageBytes.build("C") { $0.u8(0).u64(0x16B_3748).u64(0x16B_3778).u64(UInt64(commitTime.rawValue)) },
        expected: .commit(
            Commit(flags: 0, commitLSN: LSN(0x16B_3748), endLSN: LSN(0x16B_3778), commitTime: commitTime)),
        malformed: [
            (MessageBytes.build("C") { $0.u8(0).u64(1).u64(2).u64(3).u32(0) }, .trailingBytes(offset: 26, count: 4))
        ]),
    MessageCase(
        name: "Origin",
        bytes: MessageBytes.build("O") { $0.u64(0xABC_DEF0).string("upstream") },
        expected: .origin(Origin(commitLSN: LSN(0xABC_DEF0), name: "upstream")),
        malformed: [
            (MessageBytes.build("O") { $0.u64(1).string("up").string("stream") }, .trailingBytes(offset: 12, count: 7))
        ]),
    MessageCase(
        name: "Relation",
        bytes: MessageBytes.build("R") {
            $0.u32(16384).string("public").string("users").ascii("f").i16(2)
                .u8(1).string("id").u32(23).i32(-1)
                .u8(0).string("email").u32(1043).i32(259)
        },
        expected: .relation(
            Relation(
                oid: 16384, namespace: "public", name: "users", replicaIdentity: .full,
                columns: [
                    .init(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
                    .init(isKey: false, name: "email", typeOID: 1043, typeModifier: 259),
                ])),
        malformed: [
            (
                MessageBytes.build("R") { $0.u32(1).string("public").string("t").ascii("x").i16(0) },
                .malformed("replica identity 0x78")
            ),
            (
                MessageBytes.build("R") { $0.u32(1).string("public").string("t").ascii("d").i16(-1) },
                .malformed("column count -1")
            ),
            // 3000 columns announced, room for one: a truncation, found before
            // anything is reserved for them.
            (
                MessageBytes.build("R") {
                    $0.u32(1).string("").string("t").ascii("d").i16(3000).u8(0).string("c").u32(23).i32(-1)
                },
                .truncated(offset: 11, needed: 30000)
            ),
        ]),
    MessageCase(
        name: "Relation in a streamed block",
        bytes: MessageBytes.build("R") { $0.u32(900).u32(16384).string("").string("t").ascii("n").i16(0) },
        expected: .relation(
            Relation(xid: 900, oid: 16384, namespace: "", name: "t", replicaIdentity: .nothing, columns: [])),
        inStream: true),
    MessageCase(
        name: "Relation with index identity",
        bytes: MessageBytes.build("R") {
            $0.u32(7).string("s").string("t").ascii("i").i16(1).u8(1).string("k").u32(25).i32(-1)
        },
        expected: .relation(
            Relation(
                oid: 7, namespace: "s", name: "t", replicaIdentity: .index,
                columns: [.init(isKey: true, name: "k", typeOID: 25, typeModifier: -1)]))),
    MessageCase(
        name: "Type",
        bytes: MessageBytes.build("Y") { $0.u32(16390).string("public").string("mood") },
        expected: .type(TypeInfo(oid: 16390, namespace: "public", name: "mood")),
        malformed: [
            (
                MessageBytes.build("Y") { $0.u32(1).string("a").string("b").string("c") },
                .trailingBytes(offset: 9, count: 2)
            )
        ]),
    MessageCase(
        name: "Type in a streamed block",
        bytes: MessageBytes.build("Y") { $0.u32(900).u32(16390).string("").string("int4") },
        expected: .type(TypeInfo(xid: 900, oid: 16390, namespace: "", name: "int4")),
        inStream: true),
    MessageCase(
        name: "Insert",
        bytes: MessageBytes.build("I") {
            $0.u32(16384).ascii("N").tuple([.text("1"), .null, .binary([0, 0, 0, 1]), .text("")])
        },
        expected: .insert(
            Insert(
                relationOID: 16384,
                newTuple: TupleData(.text("1"), .null, .binary([0, 0, 0, 1]), .text("")))),
        malformed: [
            (
                MessageBytes.build("I") { $0.u32(1).ascii("X").tuple([]) },
                .malformed("expected new tuple marker 'N', got 0x58")
            ),
            (
                MessageBytes.build("I") { $0.u32(1).ascii("N").i16(1).ascii("t").i32(-5) },
                .malformed("column value length -5")
            ),
            (
                MessageBytes.build("I") { $0.u32(1).ascii("N").i16(1).ascii("z") },
                .malformed("tuple column kind 0x7a")
            ),
            (
                MessageBytes.build("I") { $0.u32(1).ascii("N").i16(-2) },
                .malformed("tuple column count -2")
            ),
        ]),
    MessageCase(
        name: "Insert in a streamed block",
        bytes: MessageBytes.build("I") { $0.u32(901).u32(16384).ascii("N").tuple([.text("x")]) },
        expected: .insert(Insert(xid: 901, relationOID: 16384, newTuple: TupleData(.text("x")))),
        inStream: true),
    MessageCase(
        name: "Update without old tuple",
        bytes: MessageBytes.build("U") { $0.u32(16384).ascii("N").tuple([.text("1"), .unchangedToast]) },
        expected: .update(Update(relationOID: 16384, oldTuple: nil, newTuple: TupleData(.text("1"), .unchangedToast))),
        malformed: [
            (
                MessageBytes.build("U") { $0.u32(1).ascii("Q").tuple([]) },
                .malformed("expected old tuple marker 'K' or 'O', got 0x51")
            )
        ]),
    MessageCase(
        name: "Update with old key",
        bytes: MessageBytes.build("U") {
            $0.u32(16384).ascii("K").tuple([.text("1"), .null]).ascii("N").tuple([.text("10"), .text("one")])
        },
        expected: .update(
            Update(
                relationOID: 16384, oldTuple: .key(TupleData(.text("1"), .null)),
                newTuple: TupleData(.text("10"), .text("one")))),
        malformed: [
            (
                MessageBytes.build("U") { $0.u32(1).ascii("K").tuple([]).ascii("K").tuple([]) },
                .malformed("expected new tuple marker 'N', got 0x4b")
            )
        ]),
    MessageCase(
        name: "Update with old row",
        bytes: MessageBytes.build("U") {
            $0.u32(16384).ascii("O").tuple([.text("1"), .text("a")]).ascii("N").tuple([.text("1"), .text("b")])
        },
        expected: .update(
            Update(
                relationOID: 16384, oldTuple: .full(TupleData(.text("1"), .text("a"))),
                newTuple: TupleData(.text("1"), .text("b"))))),
    MessageCase(
        name: "Update in a streamed block",
        bytes: MessageBytes.build("U") { $0.u32(902).u32(5).ascii("N").tuple([.null]) },
        expected: .update(Update(xid: 902, relationOID: 5, oldTuple: nil, newTuple: TupleData(.null))),
        inStream: true),
    MessageCase(
        name: "Delete with old key",
        bytes: MessageBytes.build("D") { $0.u32(16384).ascii("K").tuple([.text("10"), .null]) },
        expected: .delete(Delete(relationOID: 16384, oldTuple: .key(TupleData(.text("10"), .null)))),
        malformed: [
            (
                MessageBytes.build("D") { $0.u32(1).ascii("N").tuple([]) },
                .malformed("expected old tuple marker 'K' or 'O', got 0x4e")
            )
        ]),
    MessageCase(
        name: "Delete with old row",
        bytes: MessageBytes.build("D") { $0.u32(16384).ascii("O").tuple([.text("2"), .text("b")]) },
        expected: .delete(Delete(relationOID: 16384, oldTuple: .full(TupleData(.text("2"), .text("b")))))),
    MessageCase(
        name: "Delete in a streamed block",
        bytes: MessageBytes.build("D") { $0.u32(903).u32(16384).ascii("O").tuple([]) },
        expected: .delete(Delete(xid: 903, relationOID: 16384, oldTuple: .full(TupleData()))),
        inStream: true),
    MessageCase(
        name: "Truncate",
        bytes: MessageBytes.build("T") { $0.i32(2).u8(3).u32(16384).u32(16390) },
        expected: .truncate(Truncate(cascade: true, restartIdentity: true, relationOIDs: [16384, 16390])),
        malformed: [
            (MessageBytes.build("T") { $0.i32(-1).u8(0) }, .malformed("relation count -1")),
            (MessageBytes.build("T") { $0.i32(1_000_000).u8(0).u32(1) }, .truncated(offset: 6, needed: 4_000_000)),
        ]),
    MessageCase(
        name: "Truncate without options",
        bytes: MessageBytes.build("T") { $0.i32(1).u8(0).u32(16384) },
        expected: .truncate(Truncate(cascade: false, restartIdentity: false, relationOIDs: [16384]))),
    MessageCase(
        name: "Truncate in a streamed block",
        bytes: MessageBytes.build("T") { $0.u32(904).i32(1).u8(1).u32(16384) },
        expected: .truncate(Truncate(xid: 904, cascade: true, restartIdentity: false, relationOIDs: [16384])),
        inStream: true),
    MessageCase(
        name: "Message",
        bytes: MessageBytes.build("M") { $0.u8(1).u64(0x1938B00).string("fx").i32(5).raw(Array("hello".utf8)) },
        expected: .message(
            LogicalMessage(transactional: true, lsn: LSN(0x1938B00), prefix: "fx", content: ArraySlice("hello".utf8))),
        malformed: [
            (MessageBytes.build("M") { $0.u8(0).u64(1).string("fx").i32(-1) }, .malformed("content length -1"))
        ]),
    MessageCase(
        name: "Message, not transactional, binary content",
        bytes: MessageBytes.build("M") { $0.u8(0).u64(7).string("").i32(3).raw([0, 0xFF, 0x80]) },
        expected: .message(LogicalMessage(transactional: false, lsn: LSN(7), prefix: "", content: [0, 0xFF, 0x80]))),
    MessageCase(
        name: "Message in a streamed block",
        bytes: MessageBytes.build("M") { $0.u32(905).u8(1).u64(7).string("p").i32(0) },
        expected: .message(LogicalMessage(xid: 905, transactional: true, lsn: LSN(7), prefix: "p", content: [])),
        inStream: true),
    MessageCase(
        name: "Stream Start",
        bytes: MessageBytes.build("S") { $0.u32(756).u8(1) },
        expected: .streamStart(StreamStart(xid: 756, isFirstSegment: true)),
        protocolVersion: 2,
        malformed: [(MessageBytes.build("S") { $0.u32(756).u8(2) }, .malformed("first-segment flag 2"))]),
    MessageCase(
        name: "Stream Stop",
        bytes: MessageBytes.build("E") { $0 },
        expected: .streamStop,
        inStream: true,
        malformed: [(MessageBytes.build("E") { $0.u8(0) }, .trailingBytes(offset: 1, count: 1))]),
    MessageCase(
        name: "Stream Commit",
        bytes: MessageBytes.build("c") {
            $0.u32(756).u8(0).u64(0x1DCD1F0).u64(0x1DCD2C0).u64(UInt64(commitTime.rawValue))
        },
        expected: .streamCommit(
            StreamCommit(
                xid: 756, flags: 0, commitLSN: LSN(0x1DCD1F0), endLSN: LSN(0x1DCD2C0), commitTime: commitTime)),
        protocolVersion: 2,
        malformed: [
            (
                MessageBytes.build("c") { $0.u32(1).u8(0).u64(1).u64(2).u64(3).u8(9) },
                .trailingBytes(offset: 30, count: 1)
            )
        ]),
    MessageCase(
        name: "Stream Abort",
        bytes: MessageBytes.build("A") { $0.u32(758).u32(759) },
        expected: .streamAbort(StreamAbort(xid: 758, subtransactionXid: 759)),
        protocolVersion: 2,
        malformed: [
            // Abort LSN and time belong to protocol version 4 only.
            (MessageBytes.build("A") { $0.u32(1).u32(1).u64(2).u64(3) }, .trailingBytes(offset: 9, count: 16))
        ]),
    MessageCase(
        name: "Stream Abort, protocol 4 with abort LSN and time",
        bytes: MessageBytes.build("A") { $0.u32(758).u32(758).u64(0x1E25460).u64(UInt64(commitTime.rawValue)) },
        expected: .streamAbort(
            StreamAbort(
                xid: 758, subtransactionXid: 758, abortLSN: LSN(0x1E25460), abortTime: commitTime)),
        protocolVersion: 4,
        validPrefixLengths: [9]),
    MessageCase(
        name: "Stream Abort, protocol 4 without parallel streaming",
        bytes: MessageBytes.build("A") { $0.u32(758).u32(760) },
        expected: .streamAbort(StreamAbort(xid: 758, subtransactionXid: 760)),
        protocolVersion: 4,
        malformed: [(MessageBytes.build("A") { $0.u32(1).u32(1).u64(2) }, .truncated(offset: 17, needed: 8))]),
]

@Suite("Message byte fixtures")
struct MessageFixtureTests {
    @Test(arguments: messageCases)
    func decodesTheGoodMessage(_ fixture: MessageCase) throws {
        var decoder = try fixture.decoder()
        let message = try decoder.decode(fixture.bytes)
        #expect(message == fixture.expected)
        #expect(message.id.rawValue == fixture.bytes[0])
    }

    /// Every proper prefix is a short message: it must throw a truncation
    /// error naming the message, never crash or decode.
    @Test(arguments: messageCases)
    func rejectsEveryShortMessage(_ fixture: MessageCase) throws {
        for length in 1..<fixture.bytes.count where !fixture.validPrefixLengths.contains(length) {
            var decoder = try fixture.decoder()
            let short = Array(fixture.bytes.prefix(length))
            let error = #expect(throws: PgOutputError.self, "\(length) of \(fixture.bytes.count) bytes") {
                try decoder.decode(short)
            }
            guard let error else { continue }
            #expect(error.messageID == fixture.bytes[0])
            #expect(error.bytes == short)
            switch error.reason {
            case .truncated(let offset, _): #expect(offset <= length)
            case .unterminatedString(let offset): #expect(offset <= length)
            default: Issue.record("\(length) bytes: expected truncation, got \(error.reason)")
            }
        }
    }

    @Test(arguments: messageCases.filter { !$0.malformed.isEmpty })
    func rejectsMalformedMessages(_ fixture: MessageCase) throws {
        for (bytes, reason) in fixture.malformed {
            var decoder = try fixture.decoder()
            let error = #expect(throws: PgOutputError.self) { try decoder.decode(bytes) }
            #expect(error?.reason == reason)
            #expect(error?.bytes == bytes)
            #expect(error?.messageID == bytes[0])
        }
    }
}
