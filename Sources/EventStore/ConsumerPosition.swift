// A named consumer of a store as the API lists it: how far it has
// acknowledged, how far behind it is, and whether retention's hard cap ever
// deleted events it had not acknowledged.

/// One named consumer's acknowledged position.
public struct ConsumerPosition: Sendable, Hashable {
    public var name: String
    /// Every event up to here is acknowledged; retention keeps those after it.
    public var ackedSequence: Int64
    public var createdAtMicros: Int64
    public var updatedAtMicros: Int64
    /// The highest sequence retention's hard cap deleted before this consumer
    /// acknowledged it; nil when it has lost nothing. Stays set until the
    /// consumer is deleted.
    public var lostThrough: Int64?

    public var hasLostEvents: Bool { lostThrough != nil }

    /// Events stored after the acknowledged position.
    public func lag(lastSequence: Int64) -> Int64 { max(0, lastSequence - ackedSequence) }

    /// 1 to 128 letters, digits, `_`, `-` or `.`: safe in a URL path and a metric label.
    public static func isValidName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }
    }
}
