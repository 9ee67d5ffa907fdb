// Retention applied by a running pipeline, between its group commits.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import Testing

@Suite struct RetentionLiveTests {
    @Test(.timeLimit(.minutes(5)))
    func aPipelineKeepsItsStoreWithinTheSizeLimit() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE t (id int PRIMARY KEY, v text);
                ALTER TABLE t REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE t;
                INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 100) g;
                """)
        defer { harness.cleanUp() }
        var config = try harness.config()
        // Room for about 20 events of ~450 bytes.
        config.retention = RetentionPolicy(maxAge: nil, maxBytes: 20 * 450, hardMaxBytes: nil)
        #expect(PipelineWorker(config: config).run() == .reachedEnd)
        try harness.execute("INSERT INTO t SELECT g, repeat('y', 200) FROM generate_series(101, 110) g")
        #expect(PipelineWorker(config: config).run() == .reachedEnd)

        let reader = try EventStoreReader(path: harness.storePath)
        // The snapshot's `s` event and 100 rows were one group, over the limit: deleted whole.
        #expect(try reader.lastSequence() == 111)
        #expect(try reader.firstSequence() == 102)
        let ids = try harness.events().compactMap { intValue($0.after?["id"]) }
        #expect(ids == Array(101...110))
        // A consumer still at the start is told, not served a gap.
        let error = #expect(throws: EventStoreError.self) { try reader.page(after: .start, limit: 10) }
        #expect(error?.kind == .cursorExpired)
        #expect(error?.firstAvailableAfter == 101)
    }

    /// Aged events go on a quiet database too: retention is not only a
    /// follow-up of group commits, which stop when the writes do.
    @Test(.timeLimit(.minutes(5)))
    func agedEventsAreDeletedWhileThePipelineIsIdle() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE t (id int PRIMARY KEY, v text);
                ALTER TABLE t REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE t;
                """)
        defer { harness.cleanUp() }
        var config = try harness.config(endPosition: nil)
        config.retention = RetentionPolicy(maxAge: .seconds(1), maxBytes: nil, hardMaxBytes: nil)
        let worker = PipelineWorker(config: config)
        let finished = DispatchSemaphore(value: 0)
        worker.start { _ in finished.signal() }
        defer {
            worker.requestStop()
            finished.wait()
        }
        try harness.execute("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10) g")
        var stored: Int64 = 0
        for _ in 0..<300 where stored < 11 {
            stored = (try? EventStoreReader(path: harness.storePath).lastSequence()) ?? 0
            Thread.sleep(forTimeInterval: 0.1)
        }
        try #require(stored == 11)
        // Nothing is written from here on; the events pass their age and must go
        // within the retention check interval (5 s) of it.
        var first: Int64? = 1
        for _ in 0..<200 where first != nil {
            Thread.sleep(forTimeInterval: 0.1)
            first = try EventStoreReader(path: harness.storePath).firstSequence()
        }
        #expect(first == nil, "aged events still stored from \(first ?? 0) on an idle pipeline")
    }
}
