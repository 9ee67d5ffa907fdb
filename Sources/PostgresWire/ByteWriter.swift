// Builds protocol messages in big-endian byte order, the counterpart of
// `ByteReader`: standby status updates, and byte fixtures in tests.

/// Appends Postgres protocol primitives to a byte array.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func write(_ value: Int16) { write(UInt16(bitPattern: value)) }

    public mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    public mutating func write(_ value: Int32) { write(UInt32(bitPattern: value)) }

    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }
    public mutating func write(_ value: LSN) { write(value.rawValue) }
    public mutating func write(_ value: PostgresTimestamp) { write(value.rawValue) }

    /// Raw bytes as they are.
    public mutating func write<Bytes: Sequence>(bytes more: Bytes) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: more)
    }

    /// The ASCII code of a message type letter, e.g. `writeASCII("B")`.
    public mutating func writeASCII(_ letter: Unicode.Scalar) {
        bytes.append(UInt8(ascii: letter))
    }
}
