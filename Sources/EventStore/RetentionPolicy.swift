// How long and how much a pipeline's store keeps (DESIGN §6: retention by age
// and size). Sizes count event bodies (the stored JSON); the file is somewhat
// larger (page and index overhead) and does not shrink: SQLite reuses the
// pages retention frees, so a store at its limit stops growing.

/// What a store keeps.
public struct RetentionPolicy: Sendable, Hashable {
    /// Events older than this (by the commit time of their group) may be
    /// deleted; nil keeps events of any age.
    public var maxAge: Duration?
    /// Once the bodies stored pass this, the oldest events may be deleted;
    /// nil sets no size limit.
    public var maxBytes: Int64?
    /// The cap that wins over named consumers: the age and size limits never
    /// delete what a registered consumer has not acknowledged, but past this
    /// size the oldest events go anyway and those consumers are marked as
    /// having lost events. Nil: consumers may hold events without limit.
    public var hardMaxBytes: Int64?

    /// 7 days, 10 GiB, and a hard cap of 40 GiB for what named consumers hold.
    public static let `default` = RetentionPolicy(
        maxAge: .seconds(7 * 24 * 3600), maxBytes: 10 << 30, hardMaxBytes: 40 << 30)

    /// Keeps everything.
    public static let keepAll = RetentionPolicy(maxAge: nil, maxBytes: nil, hardMaxBytes: nil)

    public init(maxAge: Duration?, maxBytes: Int64?, hardMaxBytes: Int64?) {
        self.maxAge = maxAge
        self.maxBytes = maxBytes
        self.hardMaxBytes = hardMaxBytes
    }

    /// Why this policy is unusable, or nil. The hard cap must be at least the
    /// size limit, or the size limit would never let consumers hold anything.
    public var violation: String? {
        if let maxAge, maxAge <= .zero { return "the maximum age must be positive" }
        if let maxBytes, maxBytes <= 0 { return "the size limit must be positive" }
        if let hardMaxBytes, hardMaxBytes <= 0 { return "the hard size cap must be positive" }
        if let maxBytes, let hardMaxBytes, hardMaxBytes < maxBytes {
            return "the hard size cap (\(hardMaxBytes) bytes) is below the size limit (\(maxBytes) bytes)"
        }
        return nil
    }

    /// Microseconds of `maxAge`, saturating.
    var maxAgeMicros: Int64? {
        guard let (seconds, attoseconds) = maxAge?.components else { return nil }
        guard seconds < Int64.max / 1_000_000 else { return .max }
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
