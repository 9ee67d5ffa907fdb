// A cursor over the bytes of one protocol message, reading big-endian
// integers and NUL-terminated strings as the Postgres protocol defines them
// (https://www.postgresql.org/docs/current/protocol-message-types.html).
//
// It never traps: reading past the end throws `ByteReader.Error.truncated`,
// so a malformed message is an error, never a crash.

/// Reads Postgres protocol primitives from a byte array.
public struct ByteReader: Sendable {
    public enum Error: Swift.Error, Equatable, Sendable {
        /// The message ended before a field of `needed` bytes at `offset`.
        case truncated(offset: Int, needed: Int)
        /// A string field had no NUL terminator.
        case unterminatedString(offset: Int)
    }

    public let bytes: [UInt8]
    /// Index of the next unread byte.
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    @inline(__always)
    private mutating func take(_ count: Int) throws(Error) -> Int {
        guard count >= 0, bytes.count - offset >= count else {
            throw .truncated(offset: offset, needed: count)
        }
        let start = offset
        offset += count
        return start
    }

    public mutating func readUInt8() throws(Error) -> UInt8 {
        bytes[try take(1)]
    }

    public mutating func readUInt16() throws(Error) -> UInt16 {
        let start = try take(2)
        return UInt16(bytes[start]) << 8 | UInt16(bytes[start + 1])
    }

    public mutating func readInt16() throws(Error) -> Int16 {
        Int16(bitPattern: try readUInt16())
    }

    public mutating func readUInt32() throws(Error) -> UInt32 {
        let start = try take(4)
        var value: UInt32 = 0
        for index in start..<start + 4 { value = value << 8 | UInt32(bytes[index]) }
        return value
    }

    public mutating func readInt32() throws(Error) -> Int32 {
        Int32(bitPattern: try readUInt32())
    }

    public mutating func readUInt64() throws(Error) -> UInt64 {
        let start = try take(8)
        var value: UInt64 = 0
        for index in start..<start + 8 { value = value << 8 | UInt64(bytes[index]) }
        return value
    }

    public mutating func readInt64() throws(Error) -> Int64 {
        Int64(bitPattern: try readUInt64())
    }

    public mutating func readLSN() throws(Error) -> LSN {
        LSN(try readUInt64())
    }

    public mutating func readTimestamp() throws(Error) -> PostgresTimestamp {
        PostgresTimestamp(rawValue: try readInt64())
    }

    /// `count` bytes as a slice sharing the message's storage (no copy).
    public mutating func readBytes(_ count: Int) throws(Error) -> ArraySlice<UInt8> {
        let start = try take(count)
        return bytes[start..<start + count]
    }

    /// Everything not read yet, as a slice sharing the message's storage.
    public mutating func readRest() -> ArraySlice<UInt8> {
        let start = offset
        offset = bytes.count
        return bytes[start...]
    }

    /// A NUL-terminated UTF-8 string (`String` in the protocol docs).
    public mutating func readCString() throws(Error) -> String {
        guard let end = bytes[offset...].firstIndex(of: 0) else {
            throw .unterminatedString(offset: offset)
        }
        let text = String(decoding: bytes[offset..<end], as: UTF8.self)
        offset = end + 1
        return text
    }
}
