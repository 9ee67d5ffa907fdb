// A change of the captured table set as a running pipeline applied it: the
// marker's commit LSN (the cut-off of the tables that stopped matching), the
// tables that started and stopped, and the backfill of the new ones. The
// answer of `PUT …/filters` reports the first one of the run its new filters
// started.

import PostgresWire

public struct CaptureChange: Sendable, Equatable {
    public let lsn: LSN
    public let started: [String]
    public let stopped: [String]
    /// The backfill of `started`; nil when the pipeline does not load existing rows.
    public let backfillID: String?
}

/// What a session's first look at the captured table set found.
public enum TableSetCheck: Sendable, Equatable {
    /// The set is the stored one.
    case unchanged
    /// A change is under way: its `CaptureChange` follows at its marker.
    case changing
}
