// What `StreamMachine` asks its executor (`ReplicationSession`) to do, in
// order. The machine assumes each action succeeds: if one fails the session
// ends, and the next one starts from what the store holds.

import EventStore
import PgOutput
import PostgresWire

enum StreamAction {
    /// Open a store transaction for a group.
    case beginGroup
    /// Append one event to the open group.
    case append(ChangeAssembler.Record)
    /// Record a new version of a table's columns in the open group, with
    /// the `s` event that announces it (the next `append`).
    case recordSchema(StoredTableSchema)
    /// Commit the open group with `summary.checkpoint`; `snapshot` is the
    /// resumed snapshot's progress once the group is durable.
    case commitGroup(CommitGroup.Summary, snapshot: SnapshotUpdate?)
    /// Drop the open group (a transaction was cut off by a stop).
    case rollbackGroup
    /// Nothing is in flight: make this position durable without events (invariant 4).
    case saveCheckpoint(Checkpoint)
    /// Send a standby status update (invariant 1: `flushed` is only ever the checkpoint).
    case sendStatus(StatusReport)
    /// Stage one row change of a streamed transaction, in the open group.
    case stage(StreamStaging.Target, walStart: LSN, message: [UInt8])
    /// Stage one event template of a streamed transaction, in the open group (StreamPreEncoding).
    case stageEvent(StreamStaging.Target, template: [UInt8], gaps: TemplateGaps)
    /// Make a committed streamed transaction's staged templates its events, in the open group.
    case commitStagedEvents(StreamPreEncoding.Move)
    /// Drop what a streamed transaction (or one subtransaction) staged, in the open group.
    case discardStaged(transaction: UInt32, subtransaction: UInt32?)
    /// Read back the transaction's staged rows in order, pass each to
    /// `StreamMachine.replayed`, then call `StreamMachine.replayFinished`.
    case replayStaged(StreamCommit)
    /// Resolve the relation against the catalog (captured when the filter
    /// selects it or the applied table set holds it) and pass the schema to
    /// `StreamMachine.resolved` before the next frame.
    case lookUpSchema(Relation)
    /// `lookUpSchema` for a Relation of a streamed transaction encoded on
    /// arrival (StreamPreEncoding): pass the schema, or nil when the catalog
    /// cannot resolve it yet, to `StreamMachine.resolvedStaged` before the next frame.
    case lookUpStagedSchema(Relation)
    /// Read a piece of the resumed snapshot and pass its window to `StreamMachine.pieceLoaded`.
    case readPiece(WatermarkSnapshot.PieceRequest)
    /// Pass each row of the window's held snapshot to `StreamMachine.heldRow`,
    /// then call `heldRowsFinished` (a table without a key, reloaded whole).
    case readHeldRows(WatermarkWindow)
    /// Record in the open group that a piece's rows are stored.
    case recordPieceProgress(chunk: Int64, nextPage: UInt32, rows: Int64, done: Bool)
    /// Record in the open group that the snapshot is complete.
    case markSnapshotDone
    /// Record in the open group the new table set and the backfill's plan
    /// (its chunks, and that a load is pending again).
    case recordTableSet(TableSetChange)

    /// The positions of a standby status update and of the status that reports them.
    struct StatusReport: Equatable {
        let written: LSN
        let flushed: LSN
        /// How far the stream has been received.
        let received: LSN
        let serverWALEnd: LSN
    }

    /// The resumed snapshot's progress after a group commit.
    struct SnapshotUpdate {
        let tables: [TableSnapshotProgress]
        let finished: Bool
    }
}
