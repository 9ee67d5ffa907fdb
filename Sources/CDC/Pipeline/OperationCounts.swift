// What the status and metrics count of the stored events, by `op`.

/// Stored events counted by operation.
public struct OperationCounts: Sendable, Equatable {
    public var inserts: Int64 = 0
    public var updates: Int64 = 0
    public var deletes: Int64 = 0
    public var truncates: Int64 = 0
    /// Rows of the snapshot (`r`).
    public var reads: Int64 = 0
    /// Schema events (`s`): new versions of a table's columns.
    public var schemas: Int64 = 0
    /// Logical messages (`m`): DDL commands caught by DDL capture.
    public var messages: Int64 = 0

    public init() {}

    /// Each count with the `op` code of the event format.
    public var byCode: [(op: String, count: Int64)] {
        [
            ("c", inserts), ("u", updates), ("d", deletes), ("t", truncates), ("r", reads), ("s", schemas),
            ("m", messages),
        ]
    }

    static func += (lhs: inout OperationCounts, rhs: OperationCounts) {
        lhs.inserts += rhs.inserts
        lhs.updates += rhs.updates
        lhs.deletes += rhs.deletes
        lhs.truncates += rhs.truncates
        lhs.reads += rhs.reads
        lhs.schemas += rhs.schemas
        lhs.messages += rhs.messages
    }

    mutating func count(_ operation: EventEncoder.Operation) {
        switch operation {
        case .insert: inserts += 1
        case .update: updates += 1
        case .delete: deletes += 1
        case .truncate: truncates += 1
        case .read: reads += 1
        case .schema: schemas += 1
        case .message: messages += 1
        }
    }
}
