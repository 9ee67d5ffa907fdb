// An on-demand backfill: tables whose rows are read again, as `r` events,
// while streaming goes on (`POST /v1/pipelines/{id}/backfills`). It runs
// through the same watermark load as a table that starts to be captured
// (`TableSetChange`), starting at a marker in the WAL; from then on its
// chunks are in the store, so it survives a restart and resumes where it was.

import Foundation
import Synchronization

/// One on-demand backfill and how far it got.
public struct Backfill: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        /// Asked for; starts at the pipeline's next marker.
        case pending
        case running
        case done
        /// Refused by the pipeline: `error` says why.
        case failed
    }

    public let id: String
    /// `schema.table` names.
    public let tables: [String]
    /// Microseconds since 1970.
    public let requestedAt: Int64
    public var state: State
    /// The load chunks that read it, once it started.
    public var chunks: [Int64]
    public var chunksDone: Int
    public var rows: Int64
    public var error: String?

    public init(id: String, tables: [String], requestedAt: Int64) {
        self.id = id
        self.tables = tables
        self.requestedAt = requestedAt
        state = .pending
        chunks = []
        chunksDone = 0
        rows = 0
    }

    /// The store's metadata key of the pipeline's backfills (JSON).
    public static let metadataKey = "backfills"

    /// The backfills stored under `metadataKey`.
    public static func decode(_ stored: String?) -> [Backfill] {
        guard let stored else { return [] }
        return (try? JSONDecoder().decode([Backfill].self, from: Data(stored.utf8))) ?? []
    }

    static func encode(_ backfills: [Backfill]) -> String {
        (try? String(decoding: JSONEncoder().encode(backfills), as: UTF8.self)) ?? "[]"
    }

    /// Progress from the stored chunk plan.
    mutating func refresh(from chunks: [Int64: (done: Bool, rows: Int64)]) {
        guard state == .running || state == .done else { return }
        let mine = self.chunks.compactMap { chunks[$0] }
        chunksDone = mine.filter(\.done).count
        rows = mine.reduce(0) { $0 + $1.rows }
        state = chunksDone == self.chunks.count ? .done : .running
    }
}

/// Backfills asked for and not yet taken by the pipeline's session.
public final class BackfillQueue: Sendable {
    private let waiting = Mutex<[Backfill]>([])

    public init() {}

    func add(_ backfill: Backfill) { waiting.withLock { $0.append(backfill) } }

    func take() -> [Backfill] {
        waiting.withLock { queue in
            defer { queue = [] }
            return queue
        }
    }

    func putBack(_ backfills: [Backfill]) { waiting.withLock { $0 = backfills + $0 } }
}
