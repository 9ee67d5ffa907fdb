// The JSON the API returns for records and statuses (openapi.yaml: Source,
// Pipeline, PipelineStatus). The password never appears: only `has_password`.

import CDC
import Foundation

enum Representation {
    static func source(_ record: SourceRecord) -> [String: Any] {
        [
            "id": record.id, "name": record.name ?? NSNull(), "host": record.host, "port": record.port,
            "database": record.database, "user": record.user, "has_password": record.password != nil,
            "sslmode": record.sslmode, "sslrootcert": record.sslrootcert ?? NSNull(),
            "sslcert": record.sslcert ?? NSNull(), "sslkey": record.sslkey ?? NSNull(), "options": record.options,
            "created_at": record.createdAt, "updated_at": record.updatedAt,
        ]
    }

    static func filters(_ filter: TableFilter) -> [String: Any] {
        [
            "include_schemas": filter.includeSchemas, "exclude_schemas": filter.excludeSchemas,
            "include_tables": filter.includeTables, "exclude_tables": filter.excludeTables,
        ]
    }

    static func pipeline(_ record: PipelineRecord, state: PipelineState) -> [String: Any] {
        [
            "id": record.id, "source_id": record.sourceID, "publication": record.publication,
            "slot_name": record.slotName, "filters": filters(record.filters), "initial_load": record.initialLoad,
            "desired_state": record.desiredState.rawValue, "state": state.rawValue,
            "created_at": record.createdAt, "updated_at": record.updatedAt,
        ]
    }

    static func status(_ status: PipelineStatus, record: PipelineRecord) -> [String: Any] {
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let latency = status.commitToDurable
        let error: Any = status.lastError.map { error -> [String: Any] in
            [
                "code": error.code.rawValue, "message": error.message, "sqlstate": error.sqlState ?? NSNull(),
                "retryable": error.isRetryable, "remediation": error.remediation ?? NSNull(),
            ]
        } ?? NSNull()
        func lsn(_ value: some CustomStringConvertible, known: Bool) -> Any { known ? value.description : NSNull() }
        return [
            "pipeline_id": record.id, "state": status.state.rawValue, "desired_state": record.desiredState.rawValue,
            "last_error": error, "snapshot": [Any](),
            "received_lsn": lsn(status.receivedLSN, known: !status.receivedLSN.isZero),
            "flushed_lsn": lsn(status.flushedLSN, known: !status.flushedLSN.isZero),
            "server_lsn": lsn(status.serverWALEnd, known: !status.serverWALEnd.isZero),
            "lag_bytes": status.lagBytes, "lag_seconds": status.lagSeconds(nowMicroseconds: now),
            "events_stored": status.eventsStored, "transactions_stored": status.transactionsStored,
            "slot": NSNull(),
            "commit_to_durable_ms": [
                "count": latency.count, "p50": latency.quantile(0.5) ?? NSNull(),
                "p99": latency.quantile(0.99) ?? NSNull(), "max": latency.count > 0 ? latency.maxMilliseconds : NSNull(),
            ] as [String: Any],
            "reconnects": max(0, status.sessionsStarted - 1),
        ]
    }

    static func data(_ object: Any) -> [UInt8] { JSONOutput.encode(object) }
}
