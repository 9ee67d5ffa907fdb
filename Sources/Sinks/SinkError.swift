// The one error type of the sinks. The forwarder branches on `retryable`: a
// retryable error reconnects after a backoff and resumes from what the target
// holds; anything else parks the sink until it is restarted, with the message
// as its status.

/// Why a delivery, a connection or a resume failed.
public struct SinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as counted in `popsink_sink_errors_total{kind=…}`.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The target could not be reached or the connection broke.
        case connection
        /// The target did not acknowledge in time.
        case timeout
        /// The target refused a message or a batch (a retryable refusal: 5xx, a JetStream error, a Kafka delivery error).
        case rejected
        /// The target refused for good: a 4xx, a redirect, a stream that does not take our subjects.
        case refused
        /// The target holds events this store does not know (another store, a reset store).
        case diverged
        /// The settings cannot work (an unparsable URL, a missing secret).
        case configuration
        /// The event store could not be read.
        case store
    }

    public var kind: Kind
    public var message: String
    public var retryable: Bool

    public init(_ kind: Kind, _ message: String, retryable: Bool? = nil) {
        self.kind = kind
        self.message = message
        self.retryable = retryable ?? [.connection, .timeout, .rejected, .store].contains(kind)
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
