// How a pipeline's snapshot reads, as its record keeps it: the `snapshot`
// object of the API and the `--snapshot-*` options of `popsink-pg run`, with
// one set of bounds for both. A value left unset stays nil rather than being
// frozen to its default, so a default that depends on the machine (workers:
// its cores) follows the machine the service runs on.

import CDC

/// Whether a new slot starts with a snapshot, and the snapshot's parallelism,
/// chunk size and commit size, each within its bounds.
public struct SnapshotSettings: Sendable, Equatable {
    public enum Field: String, Sendable, CaseIterable {
        case workers
        case chunkPages = "chunk_pages"
        case rowsPerGroup = "rows_per_group"

        /// The values accepted. Rows per group stop at 2^53 − 1, the largest
        /// integer a JSON number carries exactly (RFC 8259 §6).
        public var bounds: ClosedRange<Int> {
            switch self {
            case .workers: 1...64
            case .chunkPages: 1...Int(UInt32.max)
            case .rowsPerGroup: 1...9_007_199_254_740_991
            }
        }
    }

    /// A value outside its field's bounds.
    public struct OutOfBounds: Error, Equatable, CustomStringConvertible {
        public let field: Field
        public let value: Int
        public var message: String { "must be between \(field.bounds.lowerBound) and \(field.bounds.upperBound)" }
        public var description: String { "\(field.rawValue) \(message) (got \(value))" }
    }

    /// Read the tables' existing rows when the slot is created (the first
    /// start); false streams only new changes.
    public var enabled: Bool
    /// Connections reading chunks at once; nil: one per core.
    public let workers: Int?
    /// Heap pages per chunk; nil: `SnapshotOptions`' default.
    public let chunkPages: Int?
    /// Rows stored per group commit; nil: `SnapshotOptions`' default.
    public let rowsPerGroup: Int?
    /// The read cap of backfills without one of their own (at least 1); nil: unthrottled.
    public var backfillMaxRowsPerSecond: Int?

    /// Every value at its default.
    public init() {
        enabled = true
        workers = nil
        chunkPages = nil
        rowsPerGroup = nil
    }

    /// Throws for the first value outside its bounds; see `violations` to report them all.
    public init(enabled: Bool = true, workers: Int?, chunkPages: Int?, rowsPerGroup: Int?) throws(OutOfBounds) {
        if let violation = Self.violations(workers: workers, chunkPages: chunkPages, rowsPerGroup: rowsPerGroup).first {
            throw violation
        }
        self.enabled = enabled
        self.workers = workers
        self.chunkPages = chunkPages
        self.rowsPerGroup = rowsPerGroup
    }

    /// Each given value outside its field's bounds, in field order.
    public static func violations(workers: Int?, chunkPages: Int?, rowsPerGroup: Int?) -> [OutOfBounds] {
        [(Field.workers, workers), (.chunkPages, chunkPages), (.rowsPerGroup, rowsPerGroup)].compactMap {
            field, value in
            guard let value, !field.bounds.contains(value) else { return nil }
            return OutOfBounds(field: field, value: value)
        }
    }

    /// What the pipeline runs with: the values given, defaults for the rest.
    public func options() -> SnapshotOptions {
        let defaults = SnapshotOptions()
        return SnapshotOptions(
            enabled: enabled, workers: workers ?? defaults.workers,
            chunkPages: chunkPages.map { UInt32($0) } ?? defaults.chunkPages,
            rowsPerGroup: rowsPerGroup ?? defaults.rowsPerGroup
        )
        .withBackfillCap(backfillMaxRowsPerSecond)
    }
}

/// Stored inside the pipeline's record; decoding checks the bounds again, so
/// a hand-edited state store cannot start a pipeline with 0 workers.
extension SnapshotSettings: Codable {
    private enum CodingKeys: String, CodingKey {
        case enabled, workers, chunkPages, rowsPerGroup, backfillMaxRowsPerSecond
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            enabled: try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true,
            workers: try container.decodeIfPresent(Int.self, forKey: .workers),
            chunkPages: try container.decodeIfPresent(Int.self, forKey: .chunkPages),
            rowsPerGroup: try container.decodeIfPresent(Int.self, forKey: .rowsPerGroup))
        backfillMaxRowsPerSecond = try container.decodeIfPresent(Int.self, forKey: .backfillMaxRowsPerSecond)
            .map { max(1, $0) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(enabled, forKey: .enabled)
        try container.encodeIfPresent(workers, forKey: .workers)
        try container.encodeIfPresent(chunkPages, forKey: .chunkPages)
        try container.encodeIfPresent(rowsPerGroup, forKey: .rowsPerGroup)
        try container.encodeIfPresent(backfillMaxRowsPerSecond, forKey: .backfillMaxRowsPerSecond)
    }
}

extension SnapshotOptions {
    fileprivate func withBackfillCap(_ cap: Int?) -> SnapshotOptions {
        var options = self
        options.backfillMaxRowsPerSecond = cap
        return options
    }
}
