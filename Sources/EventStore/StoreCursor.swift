// Where a consumer is in a store: the last sequence it has, and which store
// that sequence belongs to. The API accepts it in two spellings, a query
// (`after=SEQ&store=ID`) and an SSE `Last-Event-ID: ID:SEQ`; both parse here,
// with no I/O, so the rules are the same everywhere and unit tested.

/// A position in one store: "I have every event up to `sequence`".
public struct StoreCursor: Sendable, Hashable, CustomStringConvertible {
    /// The store the sequence belongs to; nil for a bare sequence (older
    /// clients), which is still checked against the store's range.
    public var storeID: StoreID?
    /// The last sequence the consumer has; 0 before the first event.
    public var sequence: Int64

    public init(storeID: StoreID? = nil, sequence: Int64) {
        self.storeID = storeID
        self.sequence = sequence
    }

    /// The start of a store.
    public static let start = StoreCursor(sequence: 0)

    /// `ID:SEQ`, or `SEQ` without a store id: the SSE `id:` field and `Last-Event-ID`.
    public var lastEventID: String { storeID.map { "\($0):\(sequence)" } ?? String(sequence) }

    public var description: String { lastEventID }

    /// Parses the query form: `after` (a sequence, default 0) and `store` (a
    /// store id, optional). Field names in errors are the query parameters'.
    public static func parse(after: String?, store: String?) throws(CursorSyntaxError) -> StoreCursor {
        var cursor = StoreCursor.start
        if let after {
            guard let sequence = Self.sequence(after) else {
                throw CursorSyntaxError(field: "after", message: "must be a sequence number (an integer >= 0)")
            }
            cursor.sequence = sequence
        }
        if let store {
            guard let id = StoreID(store) else {
                throw CursorSyntaxError(
                    field: "store", message: "must be a store id (32 hex digits) as returned with a page")
            }
            cursor.storeID = id
        }
        return cursor
    }

    /// Parses `Last-Event-ID`: `ID:SEQ` as this service sends it, or a bare
    /// `SEQ` as sent by older versions.
    public static func parse(lastEventID text: String) throws(CursorSyntaxError) -> StoreCursor {
        let error = CursorSyntaxError(
            field: "Last-Event-ID", message: "must be <store id>:<sequence> as sent in the stream's id: field")
        guard let colon = text.firstIndex(of: ":") else {
            guard let sequence = Self.sequence(text) else { throw error }
            return StoreCursor(sequence: sequence)
        }
        guard let id = StoreID(String(text[..<colon])),
            let sequence = Self.sequence(text[text.index(after: colon)...])
        else { throw error }
        return StoreCursor(storeID: id, sequence: sequence)
    }

    /// 1 to 19 ASCII digits: no sign, no spaces, nothing Int64 would also accept.
    private static func sequence(_ text: Substring) -> Int64? {
        guard (1...19).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return Int64(text)
    }

    private static func sequence(_ text: String) -> Int64? { sequence(Substring(text)) }
}

/// A cursor that could not be parsed: which field, and what it must look like.
public struct CursorSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The query parameter or header: `after`, `store`, `Last-Event-ID`.
    public let field: String
    public let message: String

    public var description: String { "\(field) \(message)" }
}
