// Notices, on the session's SQL connection, that the captured table set is no
// longer the one applied: at the start of a session (new filters, or a
// change made while the pipeline was stopped) and then at the poller's
// cadence, so a table added to the publication is found without waiting for
// a change of it. It prepares the `TableSetChange` and writes its marker; the
// stream machine applies the change when the marker comes through.
//
// A table that stops matching is still captured until the marker: a run
// stopped before it leaves the stored set holding the table, and the stored
// events holding its changes, in agreement; the next session finds the
// change again. A table that starts matching is captured at once; its
// marker's `s` event tells a consumer to start its copy over.

import EventStore
import Foundation
import PgOutput
import PostgresReplication

final class TableSetWatch {
    private let config: PipelineConfig
    private let connection: PostgresConnection
    private let catalog: CatalogLookup
    /// The set the stream captures by: the stored one.
    private var applied: CapturedTables
    private var appliedNames: Set<String>
    /// A change whose marker is written and not yet through the stream.
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
            applied = stored
        } else {
            applied = try CapturedTables.current(
                publication: config.publication, filter: config.filter, connection: connection)
            try store.setMetadata(CapturedTables.metadataKey, applied.stored)
        }
        appliedNames = Set(applied.names)
    }

    /// Whether the stream captures the relation's changes now: the filter
    /// selects it (by its own name or a partition root's), or it is in the
    /// applied set (excluded, its marker not through yet).
    /// `ancestors`: the tables it is a partition of (`PartitionAncestry`).
    func captures(_ relation: Relation, ancestors: [TableFilter.TableName]) -> Bool {
        appliedNames.contains(relation.namespace + "." + relation.name)
            || config.filter.selects(schema: relation.namespace, table: relation.name, ancestors: ancestors)
    }

    /// A change to hand to the machine, its marker already written; nil when
    /// the set is the applied one or a change is still in flight.
    func check(store: EventStoreWriter) throws -> TableSetChange? {
        guard !inFlight else { return nil }
        let current = try CapturedTables.current(
            publication: config.publication, filter: config.filter, connection: connection)
        guard current != applied else { return nil }
        let (addedNames, removed) = applied.difference(to: current)
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
        let tables = CapturedTables(applied.names.filter { !removedSet.contains($0) } + added.map(\.name))
        guard tables != applied else { return nil }
        let change = TableSetChange(
            token: String(UInt64.random(in: 0...UInt64.max), radix: 36), added: added, removed: removed,
            chunks: chunks, tables: tables)
        try connection.query(
            "SELECT pg_logical_emit_message(true, $1, $2)", [ChangeAssembler.watermarkPrefix, change.marker])
        inFlight = true
        return change
    }

    /// A change that starts `requests` (on-demand backfills), its marker
    /// written, and the requests refused because a table is not captured.
    /// Nil while another change is in flight: the requests wait.
    func backfill(_ requests: [Backfill], store: EventStoreWriter) throws -> (
        change: TableSetChange?, refused: [Backfill]
    )? {
        guard !inFlight else { return nil }
        let all = try SnapshotPlan.tables(config: config, connection: connection, catalog: catalog)
        let captured = SnapshotPlan.index(all)
        var nextID = (try store.snapshotChunks().map(\.id).max() ?? -1) + 1
        var tables: [SnapshotPlan.Table] = []
        var chunks: [SnapshotChunk] = []
        var accepted: [Backfill] = []
        var refused: [Backfill] = []
        for var request in requests {
            let missing = request.tables.filter { captured[$0] == nil || !appliedNames.contains($0) }
            guard missing.isEmpty, !request.tables.isEmpty else {
                request.state = .failed
                request.error =
                    "not captured by this pipeline: \(missing.joined(separator: ", ")); "
                    + "backfill tables its publication and filters select"
                refused.append(request)
                continue
            }
            let mine = request.tables.compactMap { captured[$0].map { all[$0] } }
            let planned = SnapshotPlan.chunks(
                of: mine, pagesPerChunk: config.snapshot.chunkPages, serverVersion: connection.serverVersion,
                firstID: nextID)
            nextID += Int64(planned.count)
            request.chunks = planned.map(\.id)
            request.state = .running
            chunks += planned
            tables += mine
            accepted.append(request)
        }
        guard !accepted.isEmpty else { return (nil, refused) }
        let change = TableSetChange(
            token: String(UInt64.random(in: 0...UInt64.max), radix: 36), added: tables, removed: [], chunks: chunks,
            tables: applied, backfills: accepted)
        try connection.query(
            "SELECT pg_logical_emit_message(true, $1, $2)", [ChangeAssembler.watermarkPrefix, change.marker])
        inFlight = true
        return (change, refused)
    }

    /// The change's marker came through and its group is being stored: the stream captures by its set.
    func applied(_ change: TableSetChange) {
        applied = change.tables
        appliedNames = Set(applied.names)
        inFlight = false
    }
}
