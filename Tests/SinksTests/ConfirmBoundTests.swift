// `confirm: delivered`: the flush position a sink allows, from what it
// delivered and what it read next.

import EventStore
import PostgresWire
import Testing

@testable import Sinks

@Suite("Confirm bound")
struct ConfirmBoundTests {
    let a = EventID(commitLSN: LSN(0x100), ordinal: 4)

    @Test func aSinkThatHoldsEverythingStoredBoundsNothing() {
        #expect(ConfirmBound(delivered: 10, deliveredID: a).limit(storeLast: 10) == nil)
        #expect(ConfirmBound(delivered: 0, deliveredID: nil).limit(storeLast: 0) == nil)
    }

    @Test func theFirstUndeliveredEventsCommitIsTheBound() {
        let bound = ConfirmBound(delivered: 10, deliveredID: a, next: (11, LSN(0x200)))
        #expect(bound.limit(storeLast: 50) == LSN(0x200))
    }

    @Test func withoutTheNextEventTheLastDeliveredTransactionIsKept() {
        // Read before the last delivery: it names an event already delivered.
        let stale = ConfirmBound(delivered: 10, deliveredID: a, next: (5, LSN(0x80)))
        #expect(stale.limit(storeLast: 50) == LSN(0x100))
        #expect(ConfirmBound(delivered: 10, deliveredID: a).limit(storeLast: 11) == LSN(0x100))
    }

    @Test func aSinkThatDeliveredNothingYetHoldsThePosition() {
        #expect(ConfirmBound(delivered: 0, deliveredID: nil).limit(storeLast: 3) == .zero)
        #expect(ConfirmBound(delivered: 0, deliveredID: nil, next: (1, LSN(0x40))).limit(storeLast: 3) == LSN(0x40))
    }

    @Test func theConfirmOptionReadsFromJSONAndURLs() throws {
        let json = try SinkConfig(
            spec: #"{"name":"n","type":"jetstream","servers":["nats://127.0.0.1:4222"],"confirm":"delivered"}"#)
        #expect(json.confirm == .delivered)
        #expect(try SinkConfig(spec: "kafka://127.0.0.1:9092?confirm=delivered").confirm == .delivered)
        #expect(try SinkConfig(spec: "nats://127.0.0.1:4222").confirm == .stored)
        #expect(throws: SinkError.self) { try SinkConfig(spec: "nats://127.0.0.1:4222?confirm=maybe") }
    }
}
