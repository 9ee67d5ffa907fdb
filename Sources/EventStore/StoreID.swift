// Every store has a random id, made when the store is created (or, for a store
// an older version created, the first time a writer opens it). Sequences
// restart at 1 when a store is deleted and recreated; the id is what lets a
// reader tell "sequence 40 of this store" from "sequence 40 of the store you
// read yesterday" (DESIGN §6), so a stale cursor is refused instead of
// silently skipping the new store's first events.

/// The identity of one event store: 32 lower-case hex digits (128 random bits).
public struct StoreID: Sendable, Hashable, LosslessStringConvertible, Codable {
    public let rawValue: String

    /// Accepts exactly 32 lower-case hex digits; nil for anything else.
    public init?(_ text: String) {
        guard text.utf8.count == 32,
            text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        rawValue = text
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = StoreID(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a store id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The metadata key the id is stored under.
    static let metadataKey = "store_id"
}
