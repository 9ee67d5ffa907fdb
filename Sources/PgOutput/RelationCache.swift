// The table descriptions seen so far, by OID. pgoutput sends a Relation before
// a table's first change in the session and again after each schema change,
// so the last one seen is the one that describes the tuples that follow.
// (A Relation sent inside a streamed transaction that later aborts may be
// stale; pgoutput then sends the table's Relation again before its next use
// outside that transaction.)

/// OID → the last Relation message seen for it.
public struct RelationCache: Sendable {
    public private(set) var relations: [UInt32: Relation] = [:]

    public init() {}

    /// The last description of table `oid`, nil if none was received yet.
    public subscript(oid: UInt32) -> Relation? { relations[oid] }

    /// How many tables are described.
    public var count: Int { relations.count }

    /// Stores `relation`, replacing and returning the previous description.
    @discardableResult
    public mutating func update(_ relation: Relation) -> Relation? {
        relations.updateValue(relation, forKey: relation.oid)
    }

    /// Stores the relation if `message` is a Relation; returns it if so.
    @discardableResult
    public mutating func observe(_ message: PgOutputMessage) -> Relation? {
        guard case let .relation(relation) = message else { return nil }
        update(relation)
        return relation
    }

    public mutating func removeAll() { relations.removeAll() }
}
