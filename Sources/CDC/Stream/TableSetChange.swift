// A change of the captured table set (`CapturedTables`), as one session
// prepared it: the tables that start and stop being captured, and the load
// chunks that backfill the new ones. It takes effect at a marker written into
// the WAL (`tables:<token>`, a transactional logical message like the load's
// watermarks), so its `s` events, the backfill's plan and the new set commit
// together, at one LSN, in the group of the marker's transaction.

import EventStore

struct TableSetChange {
    let token: String
    /// Tables that start to be captured, resolved like a snapshot's.
    let added: [SnapshotPlan.Table]
    /// `schema.table` names that stop being captured.
    let removed: [String]
    /// The backfill of `added`: empty when the pipeline does not load existing rows.
    let chunks: [SnapshotChunk]
    /// The set to record once the change is stored.
    let tables: CapturedTables
    /// On-demand backfills this change starts (with their chunks); empty for
    /// a change of the set. Their tables are captured already: no `s` event.
    var backfills: [Backfill] = []

    /// The marker's content.
    var marker: String { "tables:\(token)" }
}
