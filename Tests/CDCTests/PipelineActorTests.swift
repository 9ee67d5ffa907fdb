// The pipeline actor's commands are safe to repeat and to race.

import CDC
import Foundation
import PipelineTestSupport
import Testing

@Suite struct PipelineActorTests {
    @Test(.timeLimit(.minutes(5)))
    func concurrentStartsAndStopsLeaveOneConsistentRun() async throws {
        let harness = try await CaptureHarness(setup: CaptureHarness.singleTable)
        defer { harness.cleanUp() }
        try harness.capture()
        let pipeline = Pipeline(config: try harness.config(endPosition: nil))

        // Many starts at once run one worker: a second worker would fail on the
        // store's writer lock or the active slot, and show up as a failure.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { await pipeline.start() } }
        }
        try harness.execute("INSERT INTO t VALUES (1)")
        try await waitFor { try harness.events().count == 1 }
        #expect(pipeline.status.state == .streaming)
        #expect(pipeline.status.sessionsStarted == 1)

        // Stops and starts racing each other end in a defined state, never a failure.
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    if index % 2 == 0 { await pipeline.stop() } else { await pipeline.start() }
                }
            }
        }
        let outcome = await pipeline.stop()
        #expect(outcome == .stopped)
        #expect(await pipeline.stop() == .stopped, "stopping a stopped pipeline returns its last outcome")

        // And it still works afterwards, without a gap or a double.
        try harness.execute("INSERT INTO t VALUES (2)")
        await pipeline.start()
        try await waitFor { try harness.events().count == 2 }
        #expect(await pipeline.stop() == .stopped)
        #expect(try harness.events().compactMap { intValue($0.after?["id"]) } == [1, 2])
    }
}
