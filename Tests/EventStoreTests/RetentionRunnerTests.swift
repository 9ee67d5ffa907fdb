// Retention on real store files: bounded steps that catch up, expired cursors
// answered with where to resume, consumers that hold events back, and the
// hard cap that wins over them and marks them, never silently.

import EventStore
import Foundation
import PostgresWire
import Testing

@Suite struct RetentionRunnerTests {
    /// `groups` groups of `perGroup` events of `body(...)` size, one transaction per event.
    func fill(_ writer: EventStoreWriter, groups: Int, perGroup: Int) throws {
        for group in 0..<groups {
            try commitTransactions(writer, from: 0x10000 + UInt64(group * perGroup) * 0x100, count: perGroup)
        }
    }

    @Test func stepsAreBoundedAndCatchUp() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try fill(writer, groups: 30, perGroup: 1_000)
            let runner = try RetentionRunner(
                writer: writer, policy: RetentionPolicy(maxAge: .seconds(3600), maxBytes: nil, hardMaxBytes: nil),
                budget: RetentionBudget(maxEvents: 4_000, maxBytes: 1 << 30))
            // Nothing is an hour old yet.
            #expect(try runner.step().deletedThrough == nil)

            // Two hours from now everything is due: 30,000 events in steps of at most 4,000.
            let later = WallClock.unixMicroseconds() + 7_200_000_000
            var steps = 0
            var deleted: Int64 = 0
            while true {
                let step = try runner.step(nowMicros: later)
                if step.deletedThrough == nil { break }
                #expect(step.deletedEvents <= 4_000)
                deleted += step.deletedEvents
                steps += 1
                if !step.moreDue { break }
            }
            #expect(deleted == 30_000)
            #expect(steps == 8)
            #expect(try runner.storedBodyBytes() == 0)
            let reader = try EventStoreReader(path: path)
            #expect(try reader.firstSequence() == nil)
            #expect(try reader.lastSequence() == 30_000)
            // Sequences go on from where they were.
            try commitTransactions(writer, from: 0x9000000, count: 1)
            #expect(try reader.page(after: StoreCursor(sequence: 30_000), limit: 10).events.map(\.sequence) == [30_001])
        }
    }

    @Test func aCursorOlderThanWhatIsRetainedIsExpired() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            let writer = try EventStoreWriter(path: path)
            try fill(writer, groups: 10, perGroup: 10)
            let groupBytes = Int64(body(LSN(0x10000), 0).count * 10)
            // Keep three groups' worth.
            let runner = try RetentionRunner(
                writer: writer, policy: RetentionPolicy(maxAge: nil, maxBytes: 3 * groupBytes, hardMaxBytes: nil))
            let step = try runner.step()
            #expect(step.deletedThrough == 70)
            #expect(step.deletedEvents == 70)
            #expect(!step.moreDue)
            #expect(try runner.step().deletedThrough == nil)

            let reader = try EventStoreReader(path: path)
            let id = try #require(try reader.storeID())
            let error = #expect(throws: EventStoreError.self) {
                try reader.page(after: StoreCursor(storeID: id, sequence: 12), limit: 10)
            }
            #expect(error?.kind == .cursorExpired)
            #expect(error?.firstAvailableAfter == 70)
            #expect(error?.description.contains("Resume from 70") == true)
            #expect(try reader.page(after: StoreCursor(storeID: id, sequence: 70), limit: 100).events.count == 30)
        }
    }

    @Test func consumersHoldEventsAndTheHardCapMarksThemLost() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/events.db"
            // Registered before the pipeline ever ran: the registration creates the store.
            let consumers = try EventStoreConsumers(path: path)
            try consumers.acknowledge("slow", through: 0)
            try consumers.acknowledge("fast", through: 0)

            let writer = try EventStoreWriter(path: path)
            try fill(writer, groups: 10, perGroup: 10)
            let groupBytes = Int64(body(LSN(0x10000), 0).count * 10)
            let runner = try RetentionRunner(
                writer: writer,
                policy: RetentionPolicy(maxAge: nil, maxBytes: 2 * groupBytes, hardMaxBytes: 6 * groupBytes))

            // Acknowledged while the writer is open; "slow" holds everything back.
            try consumers.acknowledge("fast", through: 95)
            #expect(try runner.step().deletedThrough == 40)  // only the hard cap: 6 groups kept
            let lost = try #require(try consumers.consumer("slow"))
            #expect(lost.lostThrough == 40)
            #expect(lost.hasLostEvents)
            #expect(try consumers.consumer("fast")?.hasLostEvents == false)

            // A lost consumer holds nothing back any more; "fast" holds from 95.
            try consumers.acknowledge("slow", through: 60)
            #expect(try consumers.consumer("slow")?.lostThrough == 40)  // stays marked
            let step = try runner.step()
            #expect(step.deletedThrough == 80)  // the size limit: 2 groups
            #expect(step.consumersLost.isEmpty)
            #expect(try consumers.consumer("slow")?.lostThrough == 80)
            #expect(try consumers.consumer("fast")?.lostThrough == nil)

            // Deleting the consumer clears the record; the reader lists the rest.
            #expect(try consumers.remove("slow"))
            #expect(try !consumers.remove("slow"))
            let listed = try EventStoreReader(path: path).consumers()
            #expect(listed.map(\.name) == ["fast"])
            #expect(listed[0].lag(lastSequence: 100) == 5)
        }
    }
}
