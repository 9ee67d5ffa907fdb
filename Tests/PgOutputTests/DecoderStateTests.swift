// The decoder's own rules: which messages carry an xid, where stream messages
// may appear, what an unknown, empty, two-phase or oversized message gives,
// and decoding from an offset inside a larger frame.

import PgOutput
import PostgresWire
import Testing

@Suite("PgOutputDecoder")
struct DecoderStateTests {
    let insertWithoutXid = MessageBytes.build("I") { $0.u32(16384).ascii("N").tuple([.text("1")]) }
    let insertWithXid = MessageBytes.build("I") { $0.u32(77).u32(16384).ascii("N").tuple([.text("1")]) }
    let streamStart = MessageBytes.build("S") { $0.u32(77).u8(1) }
    let streamStop = MessageBytes.build("E") { $0 }

    @Test func dataMessagesCarryAnXidOnlyInsideAStreamBlock() throws {
        var decoder = PgOutputDecoder(protocolVersion: 2)
        #expect(
            try decoder.decode(insertWithoutXid) == .insert(Insert(relationOID: 16384, newTuple: TupleData(.text("1"))))
        )
        #expect(!decoder.isInStreamBlock)

        _ = try decoder.decode(streamStart)
        #expect(decoder.isInStreamBlock)
        #expect(
            try decoder.decode(insertWithXid)
                == .insert(Insert(xid: 77, relationOID: 16384, newTuple: TupleData(.text("1")))))
        // Without its xid the relation OID is read as the xid and 'N' is missing.
        #expect(throws: PgOutputError.self) { try decoder.decode(insertWithoutXid) }

        #expect(try decoder.decode(streamStop) == .streamStop)
        #expect(!decoder.isInStreamBlock)
        #expect(throws: PgOutputError.self) { try decoder.decode(insertWithXid) }
    }

    @Test func streamMessagesNeedProtocolVersion2() {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        let error = #expect(throws: PgOutputError.self) { try decoder.decode(streamStart) }
        #expect(error?.reason == .unexpected("Stream Start needs protocol version 2, the stream uses 1"))
        #expect(!decoder.isInStreamBlock)
    }

    @Test func streamMessagesMustBeInOrder() throws {
        var decoder = PgOutputDecoder(protocolVersion: 2)
        let stopOutside = #expect(throws: PgOutputError.self) { try decoder.decode(streamStop) }
        #expect(stopOutside?.reason == .unexpected("Stream Stop outside a Stream Start … Stop block"))

        _ = try decoder.decode(streamStart)
        let startInside = #expect(throws: PgOutputError.self) { try decoder.decode(streamStart) }
        #expect(startInside?.reason == .unexpected("Stream Start inside a Stream Start … Stop block"))
        let commit = MessageBytes.build("c") { $0.u32(77).u8(0).u64(1).u64(2).u64(3) }
        let commitInside = #expect(throws: PgOutputError.self) { try decoder.decode(commit) }
        #expect(commitInside?.reason == .unexpected("Stream Commit inside a Stream Start … Stop block"))
        let abort = MessageBytes.build("A") { $0.u32(77).u32(77) }
        #expect(throws: PgOutputError.self) { try decoder.decode(abort) }
        // Failures leave the state alone.
        #expect(decoder.isInStreamBlock)

        _ = try decoder.decode(streamStop)
        #expect(
            try decoder.decode(commit)
                == .streamCommit(
                    StreamCommit(xid: 77, commitLSN: LSN(1), endLSN: LSN(2), commitTime: .init(rawValue: 3))))
    }

    @Test func emptyMessage() {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        let error = #expect(throws: PgOutputError.self) { try decoder.decode([]) }
        #expect(error?.reason == .empty)
        #expect(error?.messageID == nil)
    }

    @Test func unknownMessageTypeCarriesItsBytes() {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        let bytes: [UInt8] = [0x5A, 0x01, 0xFF]  // 'Z'
        let error = #expect(throws: PgOutputError.self) { try decoder.decode(bytes) }
        #expect(error?.reason == .unknownMessageType)
        #expect(error?.messageID == 0x5A)
        #expect(error?.bytes == bytes)
        #expect(error?.description == "pgoutput message 'Z' (0x5a): unknown message type; 3 bytes: 5a 01 ff")
    }

    @Test(
        arguments: [
            ("b", "Begin Prepare"), ("P", "Prepare"), ("K", "Commit Prepared"), ("r", "Rollback Prepared"),
            ("p", "Stream Prepare"),
        ] as [(Unicode.Scalar, String)])
    func twoPhaseMessagesAreUnsupported(_ letter: Unicode.Scalar, _ name: String) {
        var decoder = PgOutputDecoder(protocolVersion: 3)
        let bytes = MessageBytes.build(letter) { $0.u8(0).u64(1).u64(2).u64(3).u32(4).string("gid") }
        let error = #expect(throws: PgOutputError.self) { try decoder.decode(bytes) }
        #expect(
            error?.reason == .unsupported("\(name) is a two-phase commit message; replication runs with two_phase off"))
        #expect(error?.messageID == UInt8(ascii: letter))
    }

    @Test func leftoverBytesAreAnError() {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        let bytes = insertWithoutXid + [0xAA, 0xBB]
        let error = #expect(throws: PgOutputError.self) { try decoder.decode(bytes) }
        #expect(error?.reason == .trailingBytes(offset: insertWithoutXid.count, count: 2))
        #expect(
            error?.description.contains("'I' (0x49, Insert): 2 bytes left over at offset \(insertWithoutXid.count)")
                == true)
    }

    /// An XLogData frame: 'w', start LSN, end LSN, send time, then the message.
    @Test func decodesFromAnOffsetWithoutCopying() throws {
        var frame: [UInt8] = [UInt8(ascii: "w")] + Array(repeating: 0xEE, count: 24)
        frame += MessageBytes.build("I") { $0.u32(16384).ascii("N").tuple([.text("hello"), .null]) }
        var decoder = PgOutputDecoder(protocolVersion: 1)
        let message = try decoder.decode(frame, startingAt: 25)
        guard case .insert(let insert) = message, case .text(let value) = insert.newTuple.columns[0] else {
            Issue.record("expected an insert with a text column, got \(message)")
            return
        }
        #expect(value.utf8String == "hello")
        // The value is a slice of the frame itself.
        #expect(value.startIndex == 25 + 1 + 4 + 1 + 2 + 1 + 4)
        frame.withUnsafeBufferPointer { frameBuffer in
            value.withUnsafeBufferPointer { valueBuffer in
                #expect(valueBuffer.baseAddress == frameBuffer.baseAddress! + value.startIndex)
            }
        }
    }

    @Test func errorsFromAnOffsetCountFromTheMessage() {
        let message = MessageBytes.build("B") { $0.u64(1).u64(2) }  // xid missing
        let frame = Array(repeating: 0xEE, count: 25) + message
        var decoder = PgOutputDecoder(protocolVersion: 1)
        let error = #expect(throws: PgOutputError.self) { try decoder.decode(frame, startingAt: 25) }
        #expect(error?.reason == .truncated(offset: 17, needed: 4))
        #expect(error?.bytes == message)
        #expect(error?.messageID == UInt8(ascii: "B"))
    }

    @Test func longMessagesArePrintedShortened() {
        let bytes = [UInt8(ascii: "Z")] + Array(repeating: 0, count: 500)
        let error = PgOutputError(messageID: bytes[0], bytes: bytes, reason: .unknownMessageType)
        #expect(error.description.hasSuffix(" …"))
        #expect(error.description.contains("501 bytes"))
        #expect(error.description.count < 600)
    }
}
