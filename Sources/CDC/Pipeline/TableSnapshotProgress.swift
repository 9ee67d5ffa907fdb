// How far the snapshot has got, table by table: what the status API,
// the metrics and `run`'s progress bar show while a pipeline snapshots.

/// The snapshot's progress on one table.
public struct TableSnapshotProgress: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Not started yet.
        case pending
        case loading
        case done
    }

    public let schema: String
    public let table: String
    public var state: State
    /// Rows stored so far (durably).
    public var rowsDone: Int64
    /// Postgres's estimate (`pg_class.reltuples`); 0 when the table was never analyzed.
    public var estimatedRows: Int64
    public var chunksDone: Int
    public var chunksTotal: Int

    public init(
        schema: String, table: String, state: State = .pending, rowsDone: Int64 = 0, estimatedRows: Int64 = 0,
        chunksDone: Int = 0, chunksTotal: Int = 0
    ) {
        self.schema = schema
        self.table = table
        self.state = state
        self.rowsDone = rowsDone
        self.estimatedRows = estimatedRows
        self.chunksDone = chunksDone
        self.chunksTotal = chunksTotal
    }
}
