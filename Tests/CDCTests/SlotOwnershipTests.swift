// Issue 11 item 4: a store belongs to one replication slot. A pipeline pointed
// at another slot (another pipeline's, say) is refused before it reads or
// confirms anything through it, and default slot names of different pipeline
// ids never collide.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresReplication
import PostgresWire
import Testing

@Suite struct SlotOwnershipTests {
    static let setup = """
        CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
        ALTER TABLE accounts REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE accounts;
        """

    @Test func defaultSlotNamesOfDifferentIdsNeverCollide() throws {
        #expect(PipelineConfig.defaultSlot(pipelineID: "orders")?.rawValue == "popsink_orders")
        let ids = [
            "orders", "Orders", "ORDERS", "a-b", "a_b", "a.b", "x" + String(repeating: "y", count: 70),
            "x" + String(repeating: "y", count: 71),
        ]
        let slots = try ids.map { try #require(PipelineConfig.defaultSlot(pipelineID: $0)).rawValue }
        #expect(Set(slots).count == ids.count, "\(slots)")
        #expect(slots.allSatisfy { $0.utf8.count <= 63 && $0.hasPrefix("popsink_") })
        // Stable: the same id always names the same slot.
        #expect(PipelineConfig.defaultSlot(pipelineID: "Orders") == PipelineConfig.defaultSlot(pipelineID: "Orders"))
    }

    @Test func anotherPipelinesSlotIsRefusedAndLeftUntouched() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        // Another consumer's slot, created before this pipeline's data: it is
        // behind this pipeline's checkpoint, so nothing but the recorded slot
        // name tells them apart.
        let other = "other_\(harness.database)"
        try harness.execute("SELECT pg_create_logical_replication_slot('\(other)', 'pgoutput')")
        defer { _ = try? harness.execute("SELECT pg_drop_replication_slot('\(other)')") }
        let otherConfirmed = try harness.execute(
            "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = '\(other)'"
        ).value("lsn")
        try harness.capture()
        try harness.execute("INSERT INTO accounts VALUES (1, 1)")
        try harness.capture()

        var config = try harness.config()
        config.slot = try #require(SlotName(rawValue: other))
        guard case .failed(let error) = PipelineWorker(config: config).run() else {
            Issue.record("a store filled through \(harness.slotName) must refuse slot \(other)")
            return
        }
        #expect(error.code == .slotMismatch)
        #expect(!error.isRetryable)
        #expect(error.message.contains(harness.slotName.rawValue) && error.message.contains(other))
        #expect(error.remediation?.contains(harness.slotName.rawValue) == true)
        #expect(
            try harness.execute(
                "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = '\(other)'"
            ).value("lsn") == otherConfirmed)
        // Its own slot still works.
        try harness.execute("INSERT INTO accounts VALUES (2, 2)")
        try harness.capture()
        #expect(try harness.events().count == 2)
    }

    @Test func aStoreWithoutARecordedSlotRecordsItOnItsNextStart() throws {
        let harness = try CaptureHarness(setup: Self.setup)
        defer { harness.cleanUp() }
        try harness.capture()
        // As a store of an earlier version left it.
        let writer = try EventStoreWriter(path: harness.storePath)
        try writer.removeMetadata("slot_name")
        writer.close()
        try harness.capture()
        let reader = try EventStoreReader(path: harness.storePath)
        defer { reader.close() }
        #expect(try reader.metadata("slot_name") == harness.slotName.rawValue)
    }
}
