// One event as the store returns it, and the event id that names it across
// replays (DESIGN §5: `<commit_lsn>:<ordinal>`).

import PostgresWire

/// A change event read back from the store.
public struct StoredEvent: Sendable, Hashable {
    /// 1, 2, 3 ... gap-free in commit order; never reused, even after retention deletes.
    public let sequence: Int64
    /// Commit LSN of the transaction the event belongs to.
    public let commitLSN: LSN
    /// Position of the event within its transaction, from 0.
    public let ordinal: Int32
    /// The encoded JSON event, byte for byte as appended.
    public let body: [UInt8]

    public init(sequence: Int64, commitLSN: LSN, ordinal: Int32, body: [UInt8]) {
        self.sequence = sequence
        self.commitLSN = commitLSN
        self.ordinal = ordinal
        self.body = body
    }

    /// The event id of DESIGN §5, `0/16B3748:3`; the same on every replay.
    public var id: String { EventID(commitLSN: commitLSN, ordinal: ordinal).description }
}

/// An event id, `<commit LSN>:<ordinal>`, as consumers send it back
/// (`Last-Event-ID`, resuming an output file).
public struct EventID: Sendable, Hashable, LosslessStringConvertible {
    public var commitLSN: LSN
    public var ordinal: Int32

    public init(commitLSN: LSN, ordinal: Int32) {
        self.commitLSN = commitLSN
        self.ordinal = ordinal
    }

    /// Parses `X/Y:N`; nil when the text is not an event id.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"),
            let lsn = LSN(String(text[..<colon])),
            let ordinal = Int32(text[text.index(after: colon)...]), ordinal >= 0
        else { return nil }
        self.init(commitLSN: lsn, ordinal: ordinal)
    }

    public var description: String { "\(commitLSN):\(ordinal)" }
}
