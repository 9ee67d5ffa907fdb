// A position in the write-ahead log.
//
// Postgres prints an LSN as two hexadecimal halves, `16/B374D848`; on the wire
// it is a big-endian UInt64. Keeping it a distinct type stops a byte count, a
// sequence number or a transaction id from being passed where a WAL position
// is meant.

/// A WAL position (log sequence number).
public struct LSN: RawRepresentable, Hashable, Comparable, Sendable {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// `0/0`, which Postgres uses for "no position" (`InvalidXLogRecPtr`).
    public static let zero = LSN(0)

    public var isZero: Bool { rawValue == 0 }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The distance in bytes from `other` to `self`, zero when `other` is ahead.
    public func bytes(after other: LSN) -> UInt64 {
        rawValue >= other.rawValue ? rawValue - other.rawValue : 0
    }
}

extension LSN: LosslessStringConvertible {
    /// Parses the `X/Y` text form Postgres prints (`pg_lsn` output).
    public init?(_ text: String) {
        let halves = text.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2,
            (1...8).contains(halves[0].count), (1...8).contains(halves[1].count),
            let high = UInt32(halves[0], radix: 16),
            let low = UInt32(halves[1], radix: 16)
        else { return nil }
        self.init(UInt64(high) << 32 | UInt64(low))
    }

    /// The `X/Y` form, upper-case hexadecimal as Postgres prints it.
    public var description: String {
        String(UInt32(truncatingIfNeeded: rawValue >> 32), radix: 16, uppercase: true) + "/"
            + String(UInt32(truncatingIfNeeded: rawValue), radix: 16, uppercase: true)
    }
}

extension LSN: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let lsn = LSN(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an LSN of the form X/Y")
        }
        self = lsn
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
