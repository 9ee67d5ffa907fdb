// A change of the captured table set (`CapturedTables`), as one session
// prepared it: the tables that start and stop being captured, and the load
// chunks that backfill the new ones; or backfills that start or stop on
// request. It takes effect at a marker written into the WAL
// (`tables:<token>`, a transactional logical message like the load's
// watermarks), so its `s` events, the backfills' plan and state and the new
// set commit together, at one LSN, in the group of the marker's transaction.

import EventStore
import PostgresWire

struct TableSetChange {
    let token: String
    /// Tables that start to be captured, resolved like a snapshot's; for an
    /// on-demand backfill, the tables it reads again.
    let added: [SnapshotPlan.Table]
    /// `schema.table` names that stop being captured.
    let removed: [String]
    /// The backfill of `added`: empty when the pipeline does not load existing rows.
    let chunks: [SnapshotChunk]
    /// The set to record once the change is stored.
    let tables: CapturedTables
    /// The backfills this change starts (with their chunks): the automatic
    /// one of the added tables, or on-demand ones.
    var backfills: [Backfill] = []
    /// False for on-demand backfills: their tables are captured already, no `s` event.
    var startsCapture = true
    /// Running backfills this change stops, and their chunks left to read.
    var cancels: [String] = []
    var cancelledChunks: Set<Int64> = []
    /// Set at the marker: the commit LSN of its transaction (the cut-off of
    /// `removed`, where `cancels` stopped).
    var at: LSN?

    /// The marker's content.
    var marker: String { "tables:\(token)" }

    /// Reading stops for some tables or chunks at the marker.
    var stopsReading: Bool { !removed.isEmpty || !cancelledChunks.isEmpty }
}
