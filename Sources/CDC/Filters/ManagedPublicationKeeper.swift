// The session's side of a managed publication: brought in step with the
// filters before the stream starts, then again at the poller's cadence, just
// before the table-set watch looks at what the publication publishes. Row
// filters of tables already published are set at the start only: filters
// change only with a new session.

import EventStore
import PostgresReplication

final class ManagedPublicationKeeper {
    private let publication: ManagedPublication
    private let connection: PostgresConnection
    private let store: EventStoreWriter
    private var rowFiltersInStep = false

    /// Nil for a pipeline that reads an existing publication; otherwise the
    /// publication is created or brought in step before this returns.
    static func start(config: PipelineConfig, connection: PostgresConnection, store: EventStoreWriter) throws
        -> ManagedPublicationKeeper?
    {
        guard config.publicationMode == .managed else {
            guard config.filter.rows.isEmpty else {
                throw PipelineError(
                    .invalidConfiguration,
                    "row filters need a managed publication; \(config.publication) is an existing one, which popsink "
                        + "does not change",
                    remediation: "Use \"publication\": {\"mode\": \"managed\"} (run --managed-publication), or "
                        + "remove row_filters and set the row filters in your own publication (PostgreSQL 15+).")
            }
            return nil
        }
        let keeper = ManagedPublicationKeeper(
            publication: ManagedPublication(name: config.publication, filter: config.filter),
            connection: connection, store: store)
        try keeper.step()
        return keeper
    }

    private init(publication: ManagedPublication, connection: PostgresConnection, store: EventStoreWriter) {
        self.publication = publication
        self.connection = connection
        self.store = store
    }

    /// Adds what the filters newly select; drops what they no longer do once
    /// the store's captured set no longer holds it.
    func step() throws {
        let captured = try CapturedTables.stored(in: store)?.names ?? []
        try publication.reconcile(connection, keep: Set(captured), syncRowFilters: !rowFiltersInStep)
        rowFiltersInStep = true
    }
}
