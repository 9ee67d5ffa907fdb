// Pipeline samples for the exposition tests.

import CDC
import PostgresWire
import Telemetry

enum Fixtures {
    /// A streaming pipeline a little behind the server, with latencies in a few buckets.
    static func streaming(id: String = "orders", nowMicroseconds: Int64) -> PipelineSample {
        var status = PipelineStatus()
        status.state = .streaming
        status.receivedLSN = LSN(0x1_0000_2000)
        status.flushedLSN = LSN(0x1_0000_1000)
        status.serverWALEnd = LSN(0x1_0000_3000)
        status.eventsStored = 1234
        status.transactionsStored = 56
        status.sessionsStarted = 3
        status.retryAttempt = 0
        // Last stored commit 2.5 s ago.
        status.lastCommitTime = PostgresTimestamp(unixMicroseconds: nowMicroseconds - 2_500_000)
        for milliseconds in [0.5, 1, 3, 3, 40, 40, 40, 900, 45_000] {
            status.commitToDurable.observe(milliseconds: milliseconds)
        }
        status.eventsByOperation.inserts = 1000
        status.eventsByOperation.updates = 200
        status.eventsByOperation.deletes = 30
        status.eventsByOperation.truncates = 4
        status.slot = SlotHealth(walStatus: "extended", retainedBytes: 65536, safeWALBytes: 1 << 30)
        status.snapshot = [
            TableSnapshotProgress(
                schema: "public", table: "orders", state: .done, rowsDone: 5000, estimatedRows: 4990,
                chunksDone: 5, chunksTotal: 5),
            TableSnapshotProgress(
                schema: "public", table: "lines", state: .loading, rowsDone: 700, estimatedRows: 20000,
                chunksDone: 1, chunksTotal: 20),
            TableSnapshotProgress(schema: "audit", table: "log", estimatedRows: 10, chunksTotal: 1),
        ]
        return PipelineSample(id: id, status: status, storeBytes: 8192)
    }

    /// A pipeline that gave up, without store or slot readings.
    static func failed(id: String) -> PipelineSample {
        var status = PipelineStatus()
        status.state = .failed
        status.lastError = PipelineError(.slotMissing, "replication slot \"x\" does not exist")
        return PipelineSample(id: id, status: status)
    }
}
