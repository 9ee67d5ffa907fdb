// A backfill: tables whose rows are read again, as `r` events, while
// streaming goes on. On demand (`POST /v1/pipelines/{id}/backfills`) or
// automatic, for tables that start to be captured (`TableSetChange`). It runs
// through the watermark load, starting at a marker in the WAL; from then on
// its chunks are in the store, so it survives a restart and resumes where it
// was. Before its marker, an on-demand one waits in the store's
// `backfill_requests` (`BackfillDesk`).

import Foundation
import PostgresWire

/// One backfill and how far it got.
public struct Backfill: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        /// Asked for; starts at the pipeline's next marker.
        case pending
        case running
        case done
        /// Refused by the pipeline: `error` says why.
        case failed
        /// Stopped by a cancel, at `stoppedAt`.
        case cancelled
    }

    public enum Trigger: String, Sendable, Codable {
        /// `POST …/backfills`.
        case request
        /// The tables started to be captured.
        case captureStarted = "capture_started"
    }

    public let id: String
    /// `schema.table` names.
    public let tables: [String]
    /// Microseconds since 1970.
    public let requestedAt: Int64
    public var trigger: Trigger
    /// The condition of each table that has one, as asked for.
    public var predicates: [String: RowCondition]
    /// The same conditions as SQL (`BackfillCondition.render`), what its chunk queries read.
    public var conditions: [String: String]
    /// The read cap; nil reads as fast as the stream allows.
    public var maxRowsPerSecond: Int?
    public var state: State
    /// The load chunks that read it, once it started.
    public var chunks: [Int64]
    public var chunksDone: Int
    public var rows: Int64
    public var error: String?
    /// A cancel is stored and not carried out yet.
    public var cancelRequested: Bool
    /// For `cancelled`: the commit LSN of the marker it stopped at.
    public var stoppedAt: LSN?

    public init(
        id: String, tables: [String], requestedAt: Int64, trigger: Trigger = .request,
        predicates: [String: RowCondition] = [:], conditions: [String: String] = [:], maxRowsPerSecond: Int? = nil
    ) {
        self.id = id
        self.tables = tables
        self.requestedAt = requestedAt
        self.trigger = trigger
        self.predicates = predicates
        self.conditions = conditions
        self.maxRowsPerSecond = maxRowsPerSecond
        state = .pending
        chunks = []
        chunksDone = 0
        rows = 0
        cancelRequested = false
    }

    /// A new backfill id.
    public static func newID() -> String { "bf_" + String(UInt64.random(in: 0...UInt64.max), radix: 36) }

    private enum CodingKeys: String, CodingKey {
        case id, tables, requestedAt, trigger, predicates, conditions, maxRowsPerSecond, state, chunks, chunksDone,
            rows, error
        case cancelRequested, stoppedAt
    }

    /// Stores written before triggers, conditions, cancels and structured conditions lack those keys.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        tables = try container.decode([String].self, forKey: .tables)
        requestedAt = try container.decode(Int64.self, forKey: .requestedAt)
        trigger = try container.decodeIfPresent(Trigger.self, forKey: .trigger) ?? .request
        predicates = try container.decodeIfPresent([String: RowCondition].self, forKey: .predicates) ?? [:]
        conditions = try container.decodeIfPresent([String: String].self, forKey: .conditions) ?? [:]
        maxRowsPerSecond = try container.decodeIfPresent(Int.self, forKey: .maxRowsPerSecond)
        state = try container.decode(State.self, forKey: .state)
        chunks = try container.decodeIfPresent([Int64].self, forKey: .chunks) ?? []
        chunksDone = try container.decodeIfPresent(Int.self, forKey: .chunksDone) ?? 0
        rows = try container.decodeIfPresent(Int64.self, forKey: .rows) ?? 0
        error = try container.decodeIfPresent(String.self, forKey: .error)
        cancelRequested = try container.decodeIfPresent(Bool.self, forKey: .cancelRequested) ?? false
        stoppedAt = try container.decodeIfPresent(LSN.self, forKey: .stoppedAt)
    }

    /// True once it can no longer change (`done`, `failed`, `cancelled`).
    public var isFinished: Bool { state == .done || state == .failed || state == .cancelled }

    /// The store's metadata key of the pipeline's started backfills (JSON).
    public static let metadataKey = "backfills"

    /// The backfills stored under `metadataKey`.
    public static func decode(_ stored: String?) -> [Backfill] {
        guard let stored else { return [] }
        return (try? JSONDecoder().decode([Backfill].self, from: Data(stored.utf8))) ?? []
    }

    static func encode(_ backfills: [Backfill]) -> String {
        (try? String(decoding: JSONEncoder().encode(backfills), as: UTF8.self)) ?? "[]"
    }

    /// The JSON of one backfill, as a request row's body.
    public var encoded: String {
        (try? String(decoding: JSONEncoder().encode(self), as: UTF8.self)) ?? "{}"
    }

    /// A request row's body.
    public static func decodeOne(_ body: String) -> Backfill? {
        try? JSONDecoder().decode(Backfill.self, from: Data(body.utf8))
    }

    /// The started backfills (`known`), then the requests still waiting in
    /// the store, each marked with a cancel that waits there too.
    public static func merge(_ known: [Backfill], requests: [(body: String, cancel: Bool)]) -> [Backfill] {
        var merged = known
        for request in requests {
            guard var backfill = decodeOne(request.body) else { continue }
            if let index = merged.firstIndex(where: { $0.id == backfill.id }) {
                if request.cancel, !merged[index].isFinished { merged[index].cancelRequested = true }
            } else {
                backfill.cancelRequested = request.cancel
                merged.append(backfill)
            }
        }
        return merged
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
