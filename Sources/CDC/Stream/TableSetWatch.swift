// Notices, on the session's SQL connection, that the captured table set is no
// longer the one recorded: at the start of a session (new filters, or a
// change made while the pipeline was stopped) and then at the poller's
// cadence, so a table added to the publication is found without waiting for
// a change of it. It prepares the `TableSetChange` and writes its marker; the
// stream machine applies the change when the marker comes through.

import EventStore
import Foundation
import PostgresReplication

final class TableSetWatch {
    private let config: PipelineConfig
    private let connection: PostgresConnection
    private let catalog: CatalogLookup
    /// The set as stored, or as it will be once the change in flight is stored.
    private var recorded: CapturedTables
    private var inFlight = false

    /// Records the current set when the store has none (a store made before
    /// sets were recorded, or a pipeline that does not snapshot): from then on
    /// changes are announced.
    init(config: PipelineConfig, connection: PostgresConnection, catalog: CatalogLookup, store: EventStoreWriter)
        throws
    {
        self.config = config
        self.connection = connection
        self.catalog = catalog
        if let stored = try CapturedTables.stored(in: store) {
            recorded = stored
        } else {
            recorded = try CapturedTables.current(
                publication: config.publication, filter: config.filter, connection: connection)
            try store.setMetadata(CapturedTables.metadataKey, recorded.stored)
        }
    }

    /// A change to hand to the machine, its marker already written; nil when
    /// the set is the recorded one or a change is still in flight.
    func check(store: EventStoreWriter) throws -> TableSetChange? {
        guard !inFlight else { return nil }
        let current = try CapturedTables.current(
            publication: config.publication, filter: config.filter, connection: connection)
        guard current != recorded else { return nil }
        let (addedNames, removed) = recorded.difference(to: current)
        var added: [SnapshotPlan.Table] = []
        if !addedNames.isEmpty {
            let wanted = Set(addedNames)
            added = try SnapshotPlan.tables(config: config, connection: connection, catalog: catalog)
                .filter { wanted.contains($0.name) }
        }
        var chunks: [SnapshotChunk] = []
        if config.snapshot.enabled, !added.isEmpty {
            let firstID = (try store.snapshotChunks().map(\.id).max() ?? -1) + 1
            chunks = SnapshotPlan.chunks(
                of: added, pagesPerChunk: config.snapshot.chunkPages, serverVersion: connection.serverVersion,
                firstID: firstID)
        }
        // A table gone again before it was resolved is left out: the next check sees it.
        let removedSet = Set(removed)
        let tables = CapturedTables(recorded.names.filter { !removedSet.contains($0) } + added.map(\.name))
        guard tables != recorded else { return nil }
        let change = TableSetChange(
            token: String(UInt64.random(in: 0...UInt64.max), radix: 36), added: added, removed: removed,
            chunks: chunks, tables: tables)
        try connection.query(
            "SELECT pg_logical_emit_message(true, $1, $2)", [ChangeAssembler.watermarkPrefix, change.marker])
        inFlight = true
        return change
    }

    /// The change's marker came through and its group is being stored.
    func stored(_ change: TableSetChange) {
        recorded = change.tables
        inFlight = false
    }
}
