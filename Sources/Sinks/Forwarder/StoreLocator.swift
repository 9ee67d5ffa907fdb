// Where an event a target holds sits in the store. Retention may have
// deleted it since it was delivered: an id older than every stored event
// means the target holds all that is left before the first stored event,
// so the sink goes on from there. An id the store never had, or one newer
// than it, means the target and the store diverged.

import EventStore
import PostgresWire

enum StoreLocator {
    /// The sequence up to which the store's events are in a target whose last event is `id`;
    /// nil when the store cannot account for `id`.
    static func delivered(upTo id: EventID, in store: EventStoreReader) throws(SinkError) -> Int64? {
        do {
            if let sequence = try store.sequence(of: id) { return sequence }
            guard let first = try store.firstSequence(),
                let oldest = try store.events(after: first - 1, limit: 1).first
            else {
                // An empty store (all deleted): the target holds everything that was in it.
                let last = try store.lastSequence()
                return last > 0 ? last : nil
            }
            let oldestID = EventID(commitLSN: oldest.commitLSN, ordinal: oldest.ordinal)
            return precedes(id, oldestID) ? first - 1 : nil
        } catch {
            throw SinkError(.store, "finding event \(id) in the store: \(error)")
        }
    }

    /// Event ids grow in store order: by commit LSN, then ordinal.
    static func precedes(_ a: EventID, _ b: EventID) -> Bool {
        (a.commitLSN.rawValue, a.ordinal) < (b.commitLSN.rawValue, b.ordinal)
    }
}
