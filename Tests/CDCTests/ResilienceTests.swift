// Invariants 1 to 5 of DESIGN §4 under restarts and failures: resume with no
// gap and no double, idle advance, a slot changed behind our back, a killed
// walsender.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresWire
import Testing

@Suite struct ResilienceTests {
    static let setup = """
        CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0);
        ALTER TABLE accounts REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE accounts;
        """

    @Test func resumesAfterACleanStopWithoutGapOrDouble() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        for round in 0..<3 {
            try harness.execute(
                "INSERT INTO accounts SELECT g, 0 FROM generate_series(\(round * 100 + 1), \(round * 100 + 100)) g")
            try harness.capture()
        }
        let events = try harness.events()
        #expect(events.count == 300)
        #expect(Set(events.map(\.id)).count == 300)
        #expect(events.compactMap { intValue($0.after?["id"]) } == Array(1...300))
        // Confirmed only what is stored: the slot is at the checkpoint, not past it.
        let checkpoint = try #require(try EventStoreReader(path: harness.storePath).checkpoint())
        #expect(try harness.confirmedFlush() == checkpoint.flushLSN)
    }

    @Test func transactionsAtOrBelowTheCheckpointAreSkipped() throws {
        // After a crash between a group commit and the status update that
        // confirms it, the slot is behind the store and Postgres sends the
        // stored transactions again. Recreate that with a copy of the slot
        // taken before the transactions were captured.
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        let backup = "b\(harness.database)"
        try harness.execute("SELECT pg_copy_logical_replication_slot('\(harness.slotName)', '\(backup)')")
        try harness.execute("INSERT INTO accounts VALUES (1, 10); INSERT INTO accounts VALUES (2, 20);")
        try harness.capture()
        #expect(try harness.events().count == 2)

        try harness.execute("SELECT pg_drop_replication_slot('\(harness.slotName)')")
        try harness.execute("SELECT pg_copy_logical_replication_slot('\(backup)', '\(harness.slotName)')")
        try harness.execute("SELECT pg_drop_replication_slot('\(backup)')")
        let checkpoint = try #require(try EventStoreReader(path: harness.storePath).checkpoint())
        #expect(try #require(try harness.confirmedFlush()) < checkpoint.flushLSN)

        try harness.execute("INSERT INTO accounts VALUES (3, 30)")
        try harness.capture()
        let events = try harness.events()
        #expect(events.compactMap { intValue($0.after?["id"]) } == [1, 2, 3])
        #expect(Set(events.map(\.id)).count == 3)
    }

    @Test func idleDatabaseStillAdvancesTheSlot() async throws {
        let harness = try await CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        let start = try #require(try harness.confirmedFlush())
        let pipeline = Pipeline(config: try harness.config(endPosition: nil))
        await pipeline.start()
        // Only another database is written: nothing for this pipeline.
        let elsewhere = try harness.postgres.createDatabase()
        try harness.postgres.execute("CREATE TABLE noise (x int)", database: elsewhere)
        var advanced = false
        for round in 0..<60 where !advanced {
            try harness.postgres.execute("INSERT INTO noise SELECT generate_series(1, 100)", database: elsewhere)
            try await Task.sleep(for: .milliseconds(500))
            if let now = try harness.confirmedFlush(), now > start { advanced = true }
            _ = round
        }
        #expect(await pipeline.stop() == .stopped)
        #expect(advanced, "confirmed_flush_lsn stayed at \(start) while another database was written")
        #expect(try harness.events().isEmpty)
        // What was confirmed is also the store's checkpoint (invariant 5 holds on restart).
        let checkpoint = try #require(try EventStoreReader(path: harness.storePath).checkpoint())
        #expect(try harness.confirmedFlush() == checkpoint.flushLSN)
        try harness.capture()
    }

    @Test(.timeLimit(.minutes(5)))
    func keepalivesAreAnsweredSoTheWalsenderNeverTimesOut() async throws {
        // wal_sender_timeout is per session: 2 s here, so a client that does
        // not answer keepalives is cut off within seconds and has to reconnect.
        let harness = try await CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        var config = try harness.config(endPosition: nil)
        config.source["options"] = "-c wal_sender_timeout=2000"
        let pipeline = Pipeline(config: config)
        await pipeline.start()
        try await Task.sleep(for: .seconds(7))
        try harness.execute("INSERT INTO accounts VALUES (1, 1)")
        try await waitFor { try harness.events().count == 1 }
        let status = pipeline.status
        #expect(await pipeline.stop() == .stopped)
        #expect(status.sessionsStarted == 1, "reconnected \(status.sessionsStarted - 1) times")
        #expect(status.state == .streaming)
    }

    @Test func droppedSlotIsALoudFailure() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute("SELECT pg_drop_replication_slot('\(harness.slotName)')")
        guard case .failed(let error) = try harness.runToCurrent() else {
            Issue.record("a missing slot must fail the pipeline")
            return
        }
        #expect(error.code == .slotMissing)
        #expect(!error.isRetryable)
        #expect(error.remediation?.contains("new slot") == true)
        // Never silently re-created.
        #expect(try harness.confirmedFlush() == nil)
    }

    @Test func slotAheadOfTheStoreIsALoudFailure() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute("INSERT INTO accounts VALUES (1, 1)")
        try harness.execute(
            "SELECT pg_replication_slot_advance('\(harness.slotName)', pg_current_wal_lsn())")
        guard case .failed(let error) = try harness.runToCurrent() else {
            Issue.record("a slot ahead of the checkpoint must fail the pipeline")
            return
        }
        #expect(error.code == .slotAhead)
        #expect(try harness.events().isEmpty)
    }

    @Test func storeOfAnotherSystemIsRefused() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        let store = try EventStoreWriter(path: harness.storePath)
        try store.setMetadata("system_id", "7000000000000000001")
        store.close()
        guard case .failed(let error) = try harness.runToCurrent() else {
            Issue.record("a store of another system must fail the pipeline")
            return
        }
        #expect(error.code == .otherSystem)
    }

    @Test func existingSlotWithoutCheckpointIsRefused() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.execute("SELECT pg_create_logical_replication_slot('\(harness.slotName)', 'pgoutput')")
        guard case .failed(let error) = try harness.runToCurrent() else {
            Issue.record("a foreign slot must not be adopted")
            return
        }
        #expect(error.code == .slotWithoutCheckpoint)
    }

    @Test func missingPublicationIsAFatalError() throws {
        let harness = try CaptureHarness(setup: "CREATE TABLE t (id int PRIMARY KEY)")
        defer { harness.cleanUp() }
        guard case .failed(let error) = try harness.runToCurrent() else {
            Issue.record("a missing publication must fail the pipeline")
            return
        }
        #expect(error.code == .publicationMissing)
        #expect(error.remediation?.contains("CREATE PUBLICATION") == true)
    }

    @Test(.timeLimit(.minutes(3)))
    func survivesTheWalsenderBeingTerminated() async throws {
        let harness = try await CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        let pipeline = Pipeline(config: try harness.config(endPosition: nil))
        await pipeline.start()
        try harness.execute("INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 50) g")
        try await waitFor { try harness.events().count == 50 }

        let terminated = try harness.execute(
            """
            SELECT pg_terminate_backend(active_pid) AS done FROM pg_replication_slots
            WHERE slot_name = '\(harness.slotName)' AND active_pid IS NOT NULL
            """)
        #expect(terminated.value("done") == "t")
        try harness.execute("INSERT INTO accounts SELECT g, 0 FROM generate_series(51, 100) g")
        try await waitFor { try harness.events().count >= 100 }
        let status = pipeline.status
        #expect(await pipeline.stop() == .stopped)

        let events = try harness.events()
        #expect(events.count == 100)
        #expect(Set(events.map(\.id)).count == 100)
        #expect(events.compactMap { intValue($0.after?["id"]) } == Array(1...100))
        #expect(status.sessionsStarted == 2, "expected exactly one reconnect, saw \(status.sessionsStarted) sessions")
    }
}

/// Polls `condition` every 100 ms for up to `seconds`.
func waitFor(seconds: Double = 60, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("condition not met within \(seconds) s")
}
