// Whether a cursor can be served by a store as it is now. Pure: the reader
// reads the store's id and range in one read transaction and asks here, so a
// refused cursor always comes with the facts a client needs to recover.

/// What a store holds, as far as a cursor is concerned.
public struct StoreRange: Sendable, Hashable {
    public var storeID: StoreID?
    /// The oldest retained event, nil when none is stored.
    public var firstSequence: Int64?
    /// The highest sequence ever committed (retention never lowers it).
    public var lastSequence: Int64

    public init(storeID: StoreID?, firstSequence: Int64?, lastSequence: Int64) {
        self.storeID = storeID
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
    }

    /// The lowest cursor that misses nothing: the oldest retained event's
    /// sequence minus one, or the last sequence when retention deleted all.
    public var firstAvailableAfter: Int64 { (firstSequence ?? (lastSequence + 1)) - 1 }
}

/// Why a store cannot serve a cursor.
public enum CursorProblem: Sendable, Hashable {
    case otherStore(StoreID?)
    case beyondEnd(lastSequence: Int64)
    case expired(firstAvailableAfter: Int64)
}

extension StoreCursor {
    /// Nil when the store can serve every event after this cursor. Checked in
    /// this order: a cursor of another store says nothing about this one's
    /// range, and one beyond the end is not "expired".
    public func problem(in range: StoreRange) -> CursorProblem? {
        if let storeID, storeID != range.storeID { return .otherStore(range.storeID) }
        if sequence > range.lastSequence { return .beyondEnd(lastSequence: range.lastSequence) }
        if sequence < range.firstAvailableAfter { return .expired(firstAvailableAfter: range.firstAvailableAfter) }
        return nil
    }
}

extension EventStoreError {
    /// The error a reader throws for `problem`.
    init(_ problem: CursorProblem, cursor: StoreCursor, range: StoreRange, path: String) {
        let operation = "read events after \(cursor)"
        switch problem {
        case .otherStore(let id):
            self.init(
                kind: .cursorOfOtherStore, operation: operation, path: path,
                message: "the cursor belongs to store \(cursor.storeID?.description ?? "?"), "
                    + "this store is \(id?.description ?? "one without an id")")
        case .beyondEnd(let last):
            self.init(
                kind: .cursorBeyondEnd, operation: operation, path: path,
                message: "sequence \(cursor.sequence) is beyond the store's last sequence \(last)")
        case .expired(let first):
            self.init(
                kind: .cursorExpired, operation: operation, path: path,
                message: "events after \(cursor.sequence) up to \(first) were deleted by retention")
            firstAvailableAfter = first
        }
        lastSequence = range.lastSequence
        storeID = range.storeID
    }
}
