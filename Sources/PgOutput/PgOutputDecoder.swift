// Turns the bytes of one pgoutput message (the payload of an XLogData frame)
// into a PgOutputMessage. Pure: no I/O, no clock.
//
// The only state is whether we are inside a Stream Start … Stream Stop block:
// in protocol version 2 and later, Relation, Type, Insert, Update, Delete,
// Truncate and Message carry a leading xid only inside such a block
// (protocol page, the "Xid of the transaction (only present for streamed
// transactions)" fields).

import PostgresWire

/// Decodes pgoutput messages, one at a time, in stream order.
public struct PgOutputDecoder: Sendable {
    /// The `proto_version` given to START_REPLICATION (1 to 4).
    public let protocolVersion: Int
    /// Whether the last stream message was a Stream Start (not yet stopped).
    public private(set) var isInStreamBlock = false

    public init(protocolVersion: Int) {
        self.protocolVersion = protocolVersion
    }

    /// Decodes one whole message; throws if it is malformed, truncated, or has
    /// bytes left over.
    public mutating func decode(_ bytes: [UInt8]) throws(PgOutputError) -> PgOutputMessage {
        try decode(bytes, startingAt: 0)
    }

    /// Decodes the message that fills `bytes[start...]`, e.g. after the 25-byte
    /// XLogData header of a CopyData frame, so the frame need not be copied:
    /// column values are slices of `bytes`. Error offsets count from `start`.
    public mutating func decode(_ bytes: [UInt8], startingAt start: Int) throws(PgOutputError) -> PgOutputMessage {
        precondition(start >= 0, "negative message offset \(start)")
        var reader = ByteReader(bytes, offset: start)
        do throws(PgOutputError) {
            let message = try decodeMessage(&reader)
            guard reader.isAtEnd else {
                throw PgOutputError(message.id, reader, .trailingBytes(offset: reader.offset, count: reader.remaining))
            }
            switch message {
            case .streamStart: isInStreamBlock = true
            case .streamStop: isInStreamBlock = false
            default: break
            }
            return message
        } catch {
            throw error.rebased(at: start)
        }
    }

    private func decodeMessage(_ reader: inout ByteReader) throws(PgOutputError) -> PgOutputMessage {
        guard let byte = try? reader.readUInt8() else {
            throw PgOutputError(messageID: nil, bytes: reader.bytes, reason: .empty)
        }
        guard let id = MessageID(rawValue: byte) else {
            throw PgOutputError(messageID: byte, bytes: reader.bytes, reason: .unknownMessageType)
        }
        let hasXid = isInStreamBlock
        switch id {
        case .begin: return .begin(try Begin.decode(from: &reader))
        case .commit: return .commit(try Commit.decode(from: &reader))
        case .origin: return .origin(try Origin.decode(from: &reader))
        case .relation: return .relation(try Relation.decode(from: &reader, hasXid: hasXid))
        case .type: return .type(try TypeInfo.decode(from: &reader, hasXid: hasXid))
        case .insert: return .insert(try Insert.decode(from: &reader, hasXid: hasXid))
        case .update: return .update(try Update.decode(from: &reader, hasXid: hasXid))
        case .delete: return .delete(try Delete.decode(from: &reader, hasXid: hasXid))
        case .truncate: return .truncate(try Truncate.decode(from: &reader, hasXid: hasXid))
        case .message: return .message(try LogicalMessage.decode(from: &reader, hasXid: hasXid))
        case .streamStart:
            try expectStreaming(id, reader, inBlock: false)
            return .streamStart(try StreamStart.decode(from: &reader))
        case .streamStop:
            try expectStreaming(id, reader, inBlock: true)
            return .streamStop
        case .streamCommit:
            try expectStreaming(id, reader, inBlock: false)
            return .streamCommit(try StreamCommit.decode(from: &reader))
        case .streamAbort:
            try expectStreaming(id, reader, inBlock: false)
            return .streamAbort(try StreamAbort.decode(from: &reader, protocolVersion: protocolVersion))
        case .beginPrepare, .prepare, .commitPrepared, .rollbackPrepared, .streamPrepare:
            throw PgOutputError(
                id, reader,
                .unsupported("\(id.name) is a two-phase commit message; replication runs with two_phase off"))
        }
    }

    /// Stream messages exist from protocol version 2; Stream Stop belongs
    /// inside a block and the others outside one.
    private func expectStreaming(_ id: MessageID, _ reader: ByteReader, inBlock: Bool) throws(PgOutputError) {
        guard protocolVersion >= 2 else {
            throw PgOutputError(
                id, reader, .unexpected("\(id.name) needs protocol version 2, the stream uses \(protocolVersion)"))
        }
        guard isInStreamBlock == inBlock else {
            throw PgOutputError(
                id, reader,
                .unexpected("\(id.name) \(isInStreamBlock ? "inside" : "outside") a Stream Start … Stop block"))
        }
    }
}
