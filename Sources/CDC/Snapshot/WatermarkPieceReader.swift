// Reads one piece of a resumed snapshot or a backfill for `WatermarkSnapshot`,
// on a SQL connection of its own: the low watermark, the piece's rows (only
// those matching the backfill's condition, if it has one), the high
// watermark, in that order and each committed before the next starts.

import PostgresReplication

final class WatermarkPieceReader {
    private let config: PipelineConfig
    private var connection: PostgresConnection?

    init(config: PipelineConfig) {
        self.config = config
    }

    /// The piece's rows in a window that opens when its low watermark comes through the stream.
    func read(_ request: WatermarkSnapshot.PieceRequest) throws -> WatermarkWindow {
        let connection = try loadConnection()
        var window = WatermarkWindow(token: request.token, piece: request.piece, keyColumns: request.keyColumns)
        try emitWatermark("low:\(request.token)", on: connection)
        // A condition is the user's SQL: it runs where it can change nothing.
        if request.condition != nil { try connection.query("BEGIN TRANSACTION READ ONLY") }
        do {
            try ChunkReader(connection: connection).read(
                request.chunk, of: request.table, from: request.piece.firstPage, filter: request.condition
            ) { _, row in
                window.add(row.tuple())
            }
        } catch {
            if request.condition != nil { _ = try? connection.query("ROLLBACK") }
            throw error
        }
        if request.condition != nil { try connection.query("COMMIT") }
        try emitWatermark("high:\(request.token)", on: connection)
        return window
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
