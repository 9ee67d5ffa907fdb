// The names and help texts of every family popsink exposes, in one place so
// the exposition, its documentation and the tests agree.

import Prometheus

/// A metric family's name and `# HELP` text.
struct SeriesName: Sendable {
    let name: String
    let help: String

    /// swift-prometheus takes names as descriptors; the full name goes in
    /// `metricName` so it reads here exactly as it appears in the output.
    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static let state = SeriesName(
        name: "popsink_pipeline_state", help: "1 for the pipeline's current state, 0 for every other state.")
    static let up = SeriesName(
        name: "popsink_pipeline_up", help: "1 while the pipeline is snapshotting or streaming, else 0.")
    static let lastError = SeriesName(
        name: "popsink_pipeline_last_error", help: "1 with the code of the pipeline's last error; absent when none.")
    static let retryAttempt = SeriesName(
        name: "popsink_pipeline_retry_attempt", help: "Reconnect attempts since the last successful start.")
    static let eventsStored = SeriesName(
        name: "popsink_pipeline_events_stored_total", help: "Change events durably stored.")
    static let eventsByOperation = SeriesName(
        name: "popsink_pipeline_events_total",
        help: "Events durably stored, by op: c insert, u update, d delete, t truncate, r snapshot row, s schema.")
    static let transactionsStored = SeriesName(
        name: "popsink_pipeline_transactions_stored_total", help: "Source transactions durably stored.")
    static let reconnects = SeriesName(
        name: "popsink_pipeline_reconnects_total", help: "Replication sessions started after the first one.")
    static let receivedLSN = SeriesName(
        name: "popsink_pipeline_received_lsn_bytes", help: "Furthest WAL position received, as a byte position.")
    static let flushedLSN = SeriesName(
        name: "popsink_pipeline_flushed_lsn_bytes",
        help: "WAL position confirmed to Postgres as durable, as a byte position.")
    static let serverLSN = SeriesName(
        name: "popsink_pipeline_server_lsn_bytes",
        help: "The server's end of WAL as of its last message, as a byte position.")
    static let lagBytes = SeriesName(
        name: "popsink_pipeline_lag_bytes", help: "WAL on the server not yet durable here, in bytes.")
    static let lagSeconds = SeriesName(
        name: "popsink_pipeline_lag_seconds", help: "Age of the last stored commit while behind; 0 when caught up.")
    static let storeBytes = SeriesName(
        name: "popsink_pipeline_store_bytes", help: "Size of the pipeline's event store on disk, in bytes.")
    static let slotRetained = SeriesName(
        name: "popsink_pipeline_slot_wal_retained_bytes",
        help: "WAL the server retains for the pipeline's slot, in bytes.")
    static let slotStatus = SeriesName(
        name: "popsink_pipeline_slot_wal_status", help: "1 for the slot's wal_status in pg_replication_slots, else 0.")
    static let slotSafeWAL = SeriesName(
        name: "popsink_pipeline_slot_safe_wal_bytes",
        help: "WAL that can still be written before the slot risks being lost (safe_wal_size); absent when unlimited.")
    static let tlsEncrypted = SeriesName(
        name: "popsink_pipeline_tls_encrypted",
        help: "1 when the replication connection runs over TLS, 0 when in clear; absent before it connects.")
    static let snapshotTablesRemaining = SeriesName(
        name: "popsink_pipeline_snapshot_tables_remaining",
        help: "Tables of the snapshot not loaded yet; 0 when there is no load.")
    static let snapshotRows = SeriesName(
        name: "popsink_pipeline_snapshot_rows", help: "Rows of the table stored by the snapshot.")
    static let snapshotRowsEstimated = SeriesName(
        name: "popsink_pipeline_snapshot_rows_estimated",
        help: "Rows Postgres estimates the table has (pg_class.reltuples); 0 when never analyzed.")
    static let snapshotChunksDone = SeriesName(
        name: "popsink_pipeline_snapshot_chunks_done", help: "Chunks of the table the snapshot has stored.")
    static let snapshotChunks = SeriesName(
        name: "popsink_pipeline_snapshot_chunks", help: "Chunks the snapshot splits the table into.")
    static let commitToDurable = SeriesName(
        name: "popsink_pipeline_commit_to_durable_seconds",
        help: "From a transaction's commit on the server to its events being durable here.")

    static let sinkDelivered = SeriesName(
        name: "popsink_sink_delivered_events_total",
        help: "Events the sink's target acknowledged since its forwarder started.")
    static let sinkDeliveredSequence = SeriesName(
        name: "popsink_sink_delivered_seq", help: "Store sequence up to which every event is in the sink's target.")
    static let sinkLag = SeriesName(
        name: "popsink_sink_lag_events", help: "Events stored and not yet in the sink's target.")
    static let sinkErrors = SeriesName(
        name: "popsink_sink_errors_total", help: "Failed deliveries, connections or resumes of the sink, by kind.")
    static let sinkRetries = SeriesName(
        name: "popsink_sink_retries_total", help: "Reconnects of the sink after a failure.")
    static let sinkLost = SeriesName(
        name: "popsink_sink_lost_events_total", help: "Events retention deleted before the sink delivered them.")
    static let sinkState = SeriesName(
        name: "popsink_sink_state", help: "1 for the sink's current state, 0 for every other state.")
    static let consumerLag = SeriesName(
        name: "popsink_consumer_lag_events", help: "Events stored after the named consumer's acknowledged position.")
    static let consumerLost = SeriesName(
        name: "popsink_consumer_lost_events",
        help: "1 when retention's hard cap deleted events the named consumer had not acknowledged.")

    static let httpRequests = SeriesName(
        name: "popsink_http_requests_total", help: "HTTP requests served, by route template, method and status.")
    static let httpDuration = SeriesName(
        name: "popsink_http_request_duration_seconds",
        help: "Time to serve an HTTP request, by route template, method and status.")
}
