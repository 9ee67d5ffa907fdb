// The one error the pgoutput decoder throws. It keeps the message's bytes so a
// decoding failure in production can be reproduced as a unit test fixture.

import PostgresWire

/// A pgoutput message that could not be decoded.
public struct PgOutputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the message was rejected. Offsets count from the message's first
    /// byte (its type byte).
    public enum Reason: Error, Sendable, Equatable {
        /// The message had no bytes at all.
        case empty
        /// A field of `needed` bytes at `offset` ran past the end.
        case truncated(offset: Int, needed: Int)
        /// A string field at `offset` had no NUL terminator.
        case unterminatedString(offset: Int)
        /// The type byte names no message this protocol defines.
        case unknownMessageType
        /// A message this client does not request (two-phase commit).
        case unsupported(String)
        /// A field holds a value the protocol does not allow.
        case malformed(String)
        /// A message that is well formed but not allowed here (e.g. Stream
        /// Stop outside a streamed block, Stream Start in protocol version 1).
        case unexpected(String)
        /// The message was decoded but `count` bytes were left at `offset`.
        case trailingBytes(offset: Int, count: Int)

        init(_ error: ByteReader.Error) {
            switch error {
            case .truncated(let offset, let needed): self = .truncated(offset: offset, needed: needed)
            case .unterminatedString(let offset): self = .unterminatedString(offset: offset)
            }
        }

        func shifted(by start: Int) -> Reason {
            switch self {
            case .truncated(let offset, let needed): .truncated(offset: offset - start, needed: needed)
            case .unterminatedString(let offset): .unterminatedString(offset: offset - start)
            case .trailingBytes(let offset, let count): .trailingBytes(offset: offset - start, count: count)
            default: self
            }
        }
    }

    /// The message type byte, or nil for an empty message.
    public let messageID: UInt8?
    /// The whole message, type byte first.
    public let bytes: [UInt8]
    public let reason: Reason

    /// An error for `bytes`, the whole message (type byte first).
    public init(messageID: UInt8?, bytes: [UInt8], reason: Reason) {
        self.messageID = messageID
        self.bytes = bytes
        self.reason = reason
    }

    /// An error for the message being read by `reader` (which may start at a
    /// non-zero offset of a larger frame; see `PgOutputDecoder.decode`).
    init(_ id: MessageID, _ reader: ByteReader, _ reason: Reason) {
        self.init(messageID: id.rawValue, bytes: reader.bytes, reason: reason)
    }

    /// The same error with `bytes` cut to the message starting at `start`.
    func rebased(at start: Int) -> PgOutputError {
        guard start > 0 else { return self }
        return PgOutputError(
            messageID: messageID, bytes: Array(bytes[min(start, bytes.count)...]),
            reason: reason.shifted(by: start))
    }

    /// At most this many bytes are printed in `description`.
    static let printedByteLimit = 128

    public var description: String {
        var text = "pgoutput message"
        if let messageID {
            let name = MessageID(rawValue: messageID)?.name
            let letter =
                (0x20..<0x7F).contains(messageID)
                ? "'\(Character(Unicode.Scalar(messageID)))' " : ""
            text += " \(letter)(0x\(hex(messageID))\(name.map { ", \($0)" } ?? ""))"
        }
        text += ": \(reasonText); \(bytes.count) bytes: "
        text += bytes.prefix(Self.printedByteLimit).map(hex).joined(separator: " ")
        if bytes.count > Self.printedByteLimit { text += " …" }
        return text
    }

    private var reasonText: String {
        switch reason {
        case .empty: "empty message"
        case .truncated(let offset, let needed): "truncated: \(needed) bytes needed at offset \(offset)"
        case .unterminatedString(let offset): "string at offset \(offset) has no NUL terminator"
        case .unknownMessageType: "unknown message type"
        case .unsupported(let what): "unsupported: \(what)"
        case .malformed(let what): "malformed: \(what)"
        case .unexpected(let what): "unexpected: \(what)"
        case .trailingBytes(let offset, let count): "\(count) bytes left over at offset \(offset)"
        }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
