// Commit-to-durable latency: the histogram on its own, and as a pipeline fills it.

import CDC
import Foundation
import PipelineTestSupport
import PostgresWire
import Testing

@Suite struct LatencyTests {
    @Test func histogramCountsEachObservationInItsBucket() {
        var histogram = LatencyHistogram()
        #expect(histogram.quantile(0.5) == nil)
        for value in [0.5, 3, 3, 7, 40, 40, 40, 40, 150, 45_000] { histogram.observe(milliseconds: value) }
        #expect(histogram.count == 10)
        #expect(histogram.maxMilliseconds == 45_000)
        #expect(histogram.sumMilliseconds == 45_323.5)
        #expect(histogram.counts[0] == 1)  // ≤ 1 ms
        #expect(histogram.counts[2] == 2)  // ≤ 5 ms
        #expect(histogram.counts[5] == 4)  // ≤ 50 ms
        #expect(histogram.counts.last == 1)  // past the last bound
        #expect(histogram.quantile(0.5) == 50)
        #expect(histogram.quantile(0.9) == 200)
        #expect(histogram.quantile(1.0) == 45_000)
        histogram.observe(milliseconds: -3)  // clock skew never makes a negative latency
        #expect(histogram.counts[0] == 2)
    }

    @Test func pipelineRecordsOneLatencyPerStoredTransaction() throws {
        let harness = try CaptureHarness(setup: CaptureHarness.singleTable)
        defer { harness.cleanUp() }
        try harness.capture()
        for id in 1...25 { try harness.execute("INSERT INTO t VALUES (\(id))") }
        let worker = PipelineWorker(config: try harness.config())
        #expect(worker.run() == .reachedEnd)
        let status = worker.progress.status
        #expect(status.transactionsStored == 25)
        #expect(status.commitToDurable.count == 25)
        // Committed before the pipeline started, so each waited at least a little,
        // and a test run does not take minutes.
        #expect(status.commitToDurable.maxMilliseconds > 0)
        #expect(status.commitToDurable.maxMilliseconds < 120_000)
    }
}

@Suite struct LagTests {
    @Test(.timeLimit(.minutes(5)))
    func serverPositionComesFromTheServerNotTheStream() async throws {
        let harness = try await CaptureHarness(setup: CaptureHarness.singleTable)
        defer { harness.cleanUp() }
        try harness.capture()
        let pipeline = Pipeline(config: try harness.config(endPosition: nil))
        await pipeline.start()
        // WAL written elsewhere moves the server's position; nothing is sent for it.
        try harness.execute("CREATE TABLE noise AS SELECT generate_series(1, 50000) AS x")
        let serverPosition = try #require(
            try harness.execute("SELECT pg_current_wal_lsn()::text AS lsn").value("lsn").flatMap { LSN($0) })
        try await waitFor(seconds: 30) { pipeline.status.serverWALEnd >= serverPosition }
        #expect(await pipeline.stop() == .stopped)
    }

    @Test func lagIsTheUndurableWALAndTheAgeOfTheLastStoredCommit() {
        var status = PipelineStatus()
        status.flushedLSN = .init(1000)
        status.serverWALEnd = .init(1000)
        status.lastCommitTime = .init(unixMicroseconds: 1_000_000)
        #expect(status.lagBytes == 0)
        #expect(status.lagSeconds(nowMicroseconds: 9_000_000) == 0)
        status.serverWALEnd = .init(5096)
        #expect(status.lagBytes == 4096)
        #expect(status.lagSeconds(nowMicroseconds: 3_500_000) == 2.5)
    }
}
