// One piece of the snapshot's plan: a range of heap pages of one table,
// and how far its rows are stored.

/// A chunk of the snapshot: the rows of pages `firstPage..<endPage` of one table.
public struct SnapshotChunk: Sendable, Equatable {
    public let id: Int64
    public let schema: String
    public let table: String
    /// The table's file when the plan was made; a different one on resume
    /// means the table was rewritten and its page numbers changed.
    public let relfilenode: UInt32
    public let firstPage: UInt32
    /// Exclusive; nil for the table's last chunk, which reads to its end.
    public let endPage: UInt32?
    /// Rows of pages before this one are stored.
    public var nextPage: UInt32
    /// Rows stored for this chunk.
    public var rows: Int64
    public var isDone: Bool

    /// `schema.table`.
    public var tableName: String { schema + "." + table }

    public init(
        id: Int64, schema: String, table: String, relfilenode: UInt32, firstPage: UInt32, endPage: UInt32?,
        nextPage: UInt32? = nil, rows: Int64 = 0, isDone: Bool = false
    ) {
        self.id = id
        self.schema = schema
        self.table = table
        self.relfilenode = relfilenode
        self.firstPage = firstPage
        self.endPage = endPage
        self.nextPage = nextPage ?? firstPage
        self.rows = rows
        self.isDone = isDone
    }
}
