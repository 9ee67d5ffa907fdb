// A pipeline's retention as the API sets it and the record keeps it: the
// effective limits, each nil for none. A field left out of a request gets
// the default (`RetentionPolicy.default`), a null lifts the limit.

import EventStore

/// What a pipeline's store keeps (openapi.yaml: Retention).
public struct RetentionSettings: Codable, Sendable, Equatable {
    /// Events older than this may be deleted; nil keeps events of any age.
    public var maxAgeSeconds: Int64?
    /// Past this many bytes of events the oldest may be deleted; nil sets no size limit.
    public var maxBytes: Int64?
    /// The cap that wins over named consumers and sinks; nil lets them hold events without limit.
    public var hardMaxBytes: Int64?

    public init(maxAgeSeconds: Int64?, maxBytes: Int64?, hardMaxBytes: Int64?) {
        self.maxAgeSeconds = maxAgeSeconds
        self.maxBytes = maxBytes
        self.hardMaxBytes = hardMaxBytes
    }

    public init(_ policy: RetentionPolicy) {
        maxAgeSeconds = policy.maxAge.map { $0.components.seconds }
        maxBytes = policy.maxBytes
        hardMaxBytes = policy.hardMaxBytes
    }

    public static let `default` = RetentionSettings(.default)

    public var policy: RetentionPolicy {
        RetentionPolicy(maxAge: maxAgeSeconds.map { .seconds($0) }, maxBytes: maxBytes, hardMaxBytes: hardMaxBytes)
    }

    /// The largest age the store can hold: its microsecond arithmetic must not overflow.
    static let longestAgeSeconds: Int64 = Int64.max / 1_000_000
}
