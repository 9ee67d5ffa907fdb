// The async front end of `EventStoreReader`: the same reads on a `Blocking`
// thread, for handlers and tasks that must not block the cooperative pool.

import Blocking

extension EventStoreReader {
    /// Opens an existing store read-only, off the cooperative pool.
    public static func open(path: String) async throws(EventStoreError) -> EventStoreReader {
        try await Blocking.run { () throws(EventStoreError) in try EventStoreReader(path: path) }
    }

    /// A reader, or nil while the pipeline has not created its store yet: no
    /// file, or a file whose schema the writer has not committed yet (it is
    /// empty, or locked, for that moment).
    public static func openIfCreated(path: String) throws(EventStoreError) -> EventStoreReader? {
        do throws(EventStoreError) {
            return try EventStoreReader(path: path)
        } catch  where error.kind == .notFound || error.kind == .notAnEventStore || error.kind == .busy {
            return nil
        }
    }

    /// `openIfCreated` off the cooperative pool.
    public static func openIfCreated(path: String) async throws(EventStoreError) -> EventStoreReader? {
        try await Blocking.run { () throws(EventStoreError) in try openIfCreated(path: path) }
    }

    /// Up to `limit` events after `sequence`, read off the cooperative pool.
    public func events(after sequence: Int64, limit: Int) async throws(EventStoreError) -> [StoredEvent] {
        try await Blocking.run { () throws(EventStoreError) in try self.events(after: sequence, limit: limit) }
    }

    /// The oldest sequence still stored, read off the cooperative pool.
    public func firstSequence() async throws(EventStoreError) -> Int64? {
        try await Blocking.run { () throws(EventStoreError) in try self.firstSequence() }
    }
}
