// Reads one piece of a resumed snapshot or a backfill for `WatermarkSnapshot`,
// on a SQL connection of its own: the low watermark, the piece's rows (only
// those matching the backfill's condition and the table's row filter, if it
// has them), the high watermark, in that order and each committed before the
// next starts.
//
// A table without a key is reloaded from a snapshot held open on a second
// connection between its watermarks, and read only when its high watermark
// comes through the stream (`forEachHeldRow`); see `WatermarkSnapshot`.

import PgOutput
import PostgresReplication

final class WatermarkPieceReader {
    private let config: PipelineConfig
    private var connection: PostgresConnection?
    /// The open snapshot of a table reloaded whole, until its rows are read.
    private var held: Held?

    private struct Held {
        let connection: PostgresConnection
        let token: String
        let request: WatermarkSnapshot.PieceRequest
        let lease: SourceConnectionBudget.Lease?
    }
    private var rowFilters: RowFilterReads

    init(config: PipelineConfig) {
        self.config = config
        rowFilters = RowFilterReads(config)
    }

    deinit { held?.lease?.release() }

    /// The piece's rows in a window that opens when its low watermark comes through the stream.
    func read(_ request: WatermarkSnapshot.PieceRequest) throws -> WatermarkWindow {
        if request.piece.reloadsTable { return try holdSnapshot(request) }
        let connection = try loadConnection()
        let relation = request.table.schema.relation
        let filter = RowFilterReads.and(
            request.condition,
            try rowFilters.sql(schema: relation.namespace, table: relation.name, connection: connection))
        try emitWatermark("low:\(request.token)", on: connection)
        // The rows and the snapshot they were read in, which `RecentCommits` and the
        // window check against the stream; read-only, as the conditions are rendered.
        try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        var window: WatermarkWindow
        do {
            window = WatermarkWindow(
                token: request.token, piece: request.piece, keyColumns: request.keyColumns,
                chunkSnapshot: try Self.snapshot(of: connection))
            try ChunkReader(connection: connection).read(
                request.chunk, of: request.table, from: request.piece.firstPage, filter: filter
            ) { _, row in
                window.add(row.tuple())
            }
        } catch {
            _ = try? connection.query("ROLLBACK")
            throw error
        }
        try connection.query("COMMIT")
        try emitWatermark("high:\(request.token)", on: connection)
        return window
    }

    /// Calls `row` for each row of the held snapshot of `window`'s table,
    /// with the window's difference applied, then ends that snapshot.
    func forEachHeldRow(of window: WatermarkWindow, _ row: (TupleData) throws -> Void) throws {
        guard let held, held.token == window.token else {
            throw PipelineError(
                .protocolViolation, "the snapshot of reload \(window.token) is not held: its rows cannot be read",
                retryable: true)
        }
        defer { release() }
        var delta = window.delta
        let relation = held.request.table.schema.relation
        let filter = RowFilterReads.and(
            held.request.condition,
            try rowFilters.sql(schema: relation.namespace, table: relation.name, connection: held.connection))
        try ChunkReader(connection: held.connection).read(
            held.request.chunk, of: held.request.table, from: 0, filter: filter
        ) { _, values in
            let tuple = values.tuple()
            if delta.admits(tuple) { try row(tuple) }
        }
        for added in delta.additions { try row(added) }
        try held.connection.query("COMMIT")
    }

    /// Low watermark, a snapshot taken and held on a connection of its own, high watermark.
    private func holdSnapshot(_ request: WatermarkSnapshot.PieceRequest) throws -> WatermarkWindow {
        release()
        let connection = try loadConnection()
        let lease = try config.connectionBudget?.reserve(1, for: config.id, purpose: "the snapshot of a reload")
        let snapshot: PostgresConnection
        do {
            snapshot = try PostgresConnection(
                settings: config.source, mode: .sql, applicationName: "popsink-pg reload")
        } catch {
            lease?.release()
            throw error
        }
        held = Held(connection: snapshot, token: request.token, request: request, lease: lease)
        snapshot.queryTimeout = config.receiveTimeout
        try SnapshotWorker.prepareForPageOrder(snapshot)
        // Idle between the watermarks while the stream catches up, but not for
        // ever: a reload whose table stopped being captured meanwhile is not
        // read, and its snapshot must not hold back vacuum for the session's life.
        let idle = max(600, 10 * Int(config.receiveTimeout.components.seconds))
        try snapshot.query("SET idle_in_transaction_session_timeout = '\(idle)s'")
        try emitWatermark("low:\(request.token)", on: connection)
        try snapshot.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try snapshot.query(RowSecurity.off)
        // Before the snapshot is taken: a rewrite (VACUUM FULL, CLUSTER) waits for the reload's end.
        try snapshot.query(
            "LOCK TABLE \(request.table.qualifiedName) IN ACCESS SHARE MODE", [],
            timeout: .seconds(60) + config.receiveTimeout)
        let visibility = try Self.snapshot(of: snapshot)
        try emitWatermark("high:\(request.token)", on: connection)
        return WatermarkWindow(
            token: request.token, piece: request.piece, keyColumns: request.keyColumns, heldSnapshot: visibility)
    }

    /// The snapshot of the transaction open on `connection`.
    private static func snapshot(of connection: PostgresConnection) throws -> SnapshotVisibility {
        let text = try connection.query("SELECT pg_current_snapshot()::text").rows.first?.first ?? nil
        guard let text, let visibility = SnapshotVisibility(text) else {
            throw PipelineError(
                .protocolViolation, "pg_current_snapshot() answered \(text ?? "nothing"), not a snapshot",
                retryable: true)
        }
        return visibility
    }

    private func release() {
        guard let held else { return }
        self.held = nil  // the connection closes with its last reference
        held.lease?.release()
    }

    private func loadConnection() throws -> PostgresConnection {
        if let connection { return connection }
        let connection = try PostgresConnection(settings: config.source, mode: .sql, applicationName: "popsink-pg load")
        connection.queryTimeout = config.receiveTimeout
        try SnapshotWorker.prepareForPageOrder(connection)
        try connection.query(RowSecurity.offForSession)
        self.connection = connection
        return connection
    }

    private func emitWatermark(_ content: String, on connection: PostgresConnection) throws {
        try connection.query(
            "SELECT pg_logical_emit_message(true, $1, $2)", [ChangeAssembler.watermarkPrefix, content])
    }
}
