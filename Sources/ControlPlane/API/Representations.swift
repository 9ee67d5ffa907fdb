// The JSON the API returns for records and statuses (openapi.yaml: Source,
// Pipeline, PipelineStatus). The password never appears: only `has_password`.

import CDC
import Foundation
import PostgresReplication
import PostgresWire
import Sinks

enum Representation {
    static func source(_ record: SourceRecord) -> JSON {
        [
            "id": record.id, "name": record.name, "host": record.host, "port": record.port,
            "database": record.database, "user": record.user, "has_password": record.password != nil,
            "sslmode": record.sslmode, "sslrootcert": record.sslrootcert,
            "sslcert": record.sslcert, "sslkey": record.sslkey,
            "has_sslrootcert_pem": record.sslrootcertPEM != nil, "has_sslcert_pem": record.sslcertPEM != nil,
            "has_sslkey_pem": record.sslkeyPEM != nil, "has_sslpassword": record.sslpassword != nil,
            "options": record.options,
            "max_connections": record.maxConnections ?? SourceConnectionBudget.defaultLimit,
            "created_at": record.createdAt, "updated_at": record.updatedAt,
        ]
    }

    static func filters(_ filter: TableFilter) -> JSON {
        [
            "include_schemas": filter.includeSchemas, "exclude_schemas": filter.excludeSchemas,
            "include_tables": filter.includeTables, "exclude_tables": filter.excludeTables,
            "row_filters": JSON.object(
                filter.rows.sorted { $0.key < $1.key }.map { ($0.key, $0.value.representation) }),
        ]
    }

    /// Whether the pipeline snapshots, and the values its snapshot runs with: those set, defaults for the rest.
    static func snapshotSettings(_ settings: SnapshotSettings) -> JSON {
        let options = settings.options()
        let json: JSON = [
            "enabled": options.enabled, "workers": options.workers, "chunk_pages": Int(options.chunkPages),
            "rows_per_group": options.rowsPerGroup,
        ]
        // Left out when unset: no cap.
        return options.backfillMaxRowsPerSecond.map {
            json.adding("backfill_max_rows_per_second", .integer(Int64($0)))
        } ?? json
    }

    static func pipeline(_ record: PipelineRecord, state: PipelineState) -> JSON {
        [
            "id": record.id, "source_id": record.sourceID, "publication": record.publication,
            "publication_mode": record.publicationMode.rawValue,
            "columns": record.columns.map(columnMask) ?? JSON.null,
            "slot_name": record.slotName, "filters": filters(record.filters),
            "snapshot": snapshotSettings(record.snapshot),
            "sinks": JSON.array(record.sinks.map { JSON(foundation: $0.publicFields) }),
            "retention": retention(record.retention),
            "messages": ["prefixes": JSON.array(record.messages.prefixes.map { JSON.string($0) })],
            "receive_timeout": record.receiveTimeout ?? PipelineConfig.defaultReceiveTimeoutSeconds,
            "desired_state": record.desiredState.rawValue, "state": state.rawValue,
            "created_at": record.createdAt, "updated_at": record.updatedAt,
        ]
    }

    /// The masked columns; the hash key is never returned.
    static func columnMask(_ mask: ColumnMask) -> JSON {
        [
            "exclude": JSON.array(mask.exclude.map { .string($0) }), "hash": JSON.array(mask.hash.map { .string($0) }),
            "redact": JSON.array(mask.redact.map { .string($0) }), "keep": JSON.array(mask.keep.map { .string($0) }),
            "truncate": JSON.object(
                mask.truncate.sorted { $0.key < $1.key }.map { (key: $0.key, value: .integer(Int64($0.value))) }),
            "new_columns": JSON.string(mask.newColumns.rawValue),
        ]
    }

    /// The effective limits; null for none.
    static func retention(_ settings: RetentionSettings) -> JSON {
        [
            "max_age_seconds": settings.maxAgeSeconds.map { JSON.integer($0) } ?? .null,
            "max_bytes": settings.maxBytes.map { JSON.integer($0) } ?? .null,
            "hard_max_bytes": settings.hardMaxBytes.map { JSON.integer($0) } ?? .null,
        ]
    }

    /// Each sink of the record: its live status when the pipeline runs, else
    /// `stopped` at its saved position.
    static func sinks(_ record: PipelineRecord, live: [SinkStatus], followers: StoreFollowers) -> JSON {
        .array(
            zip(record.sinks, followers.sinkStatuses(record.sinks, live: live)).map { sink, status in
                [
                    "name": sink.name, "type": sink.type, "confirm": sink.confirm.rawValue,
                    "state": status.state.rawValue, "delivered_seq": status.deliveredSequence,
                    "lag": status.backlogEvents, "delivered_total": status.deliveredTotal,
                    "lost_events": status.lostEvents, "retries": status.retries,
                    "errors": JSON.object(
                        status.errors.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                            (key: $0.key.rawValue, value: .integer($0.value))
                        }),
                    "last_error": status.lastError.map { JSON.string($0) } ?? .null,
                ]
            })
    }

    static func consumers(_ followers: StoreFollowers) -> JSON {
        .array(
            followers.consumers.map { consumer in
                [
                    "name": consumer.name, "acked_seq": consumer.ackedSequence,
                    "lag": consumer.lag(lastSequence: followers.lastSequence),
                    "lost_events": consumer.hasLostEvents,
                    "lost_through": consumer.lostThrough.map { JSON.integer($0) } ?? .null,
                ]
            })
    }

    static func status(
        _ status: PipelineStatus, record: PipelineRecord, sinks live: [SinkStatus] = [],
        followers: StoreFollowers = StoreFollowers()
    ) -> JSON {
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let latency = status.commitToDurable
        let error: JSON =
            status.lastError.map { error in
                [
                    "code": error.code.rawValue, "message": error.message, "sqlstate": error.sqlState,
                    "retryable": error.isRetryable, "remediation": error.remediation,
                ]
            } ?? .null
        func lsn(_ value: LSN) -> JSON { value.isZero ? .null : .string(value.description) }
        let latencySummary: JSON = [
            "count": latency.count, "p50": latency.quantile(0.5), "p99": latency.quantile(0.99),
            "max": latency.count > 0 ? latency.maxMilliseconds : nil,
        ]
        return [
            "pipeline_id": record.id, "state": status.state.rawValue, "desired_state": record.desiredState.rawValue,
            "last_error": error, "snapshot": snapshot(status.snapshot),
            // What Postgres was told (capped by sinks with confirm: delivered), and what the store holds.
            "received_lsn": lsn(status.receivedLSN),
            "flushed_lsn": lsn(status.reportedFlushLSN),
            "stored_lsn": lsn(status.flushedLSN),
            "server_lsn": lsn(status.serverWALEnd),
            "lag_bytes": status.lagBytes, "lag_seconds": status.lagSeconds(nowMicroseconds: now),
            "events_stored": status.eventsStored, "transactions_stored": status.transactionsStored,
            "events_by_op": JSON.object(
                status.eventsByOperation.byCode.map { (key: $0.op, value: .integer($0.count)) }),
            "slot": status.slot.map(slot) ?? .null,
            "tls": status.tls.map(tls) ?? .null,
            "commit_to_durable_ms": latencySummary,
            "reconnects": max(0, status.sessionsStarted - 1),
            "sinks": sinks(record, live: live, followers: followers),
            "consumers": consumers(followers),
        ]
    }

    /// The snapshot: totals, then one entry per table in load order.
    static func snapshot(_ tables: [TableSnapshotProgress]) -> JSON {
        [
            "tables_total": tables.count, "tables_done": tables.count { $0.state == .done },
            "rows_done": tables.reduce(Int64(0)) { $0 + $1.rowsDone },
            "rows_estimated": tables.reduce(Int64(0)) { $0 + $1.estimatedRows },
            "tables": JSON.array(
                tables.map { table in
                    [
                        "schema": table.schema, "table": table.table, "state": table.state.rawValue,
                        "rows_done": table.rowsDone, "rows_estimated": table.estimatedRows,
                        "chunks_done": table.chunksDone, "chunks_total": table.chunksTotal,
                    ]
                }),
        ]
    }

    /// The replication connection's transport security, with a warning for an sslmode below verify-full.
    static func tls(_ security: ConnectionSecurity) -> JSON {
        [
            "encrypted": security.encrypted, "protocol": security.protocol, "cipher": security.cipher,
            "sslmode": security.sslmode, "verified": security.verified,
            "warning": ConnectionSecurity.warning(sslmode: security.sslmode),
        ]
    }

    /// The slot as `pg_replication_slots` last showed it.
    static func slot(_ slot: SlotHealth) -> JSON {
        ["wal_status": slot.walStatus, "retained_wal_bytes": slot.retainedBytes, "safe_wal_bytes": slot.safeWALBytes]
    }
}
