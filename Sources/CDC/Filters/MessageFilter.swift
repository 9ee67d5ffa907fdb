// Which of the user's own logical decoding messages (`pg_logical_emit_message`)
// a pipeline passes on as `m` events. Off unless prefixes are listed: a
// message passes when its prefix starts with one of them (`app.` passes
// `app.audit` and `app.orders`; an empty entry passes every message).
// popsink's own prefixes (the load's watermarks, DDL capture) never pass as
// the user's: they are decoded for their own purpose.

/// The prefixes of the logical messages a pipeline passes on.
public struct MessageFilter: Sendable, Hashable, Codable {
    public var prefixes: [String]

    public init(prefixes: [String] = []) {
        self.prefixes = prefixes
    }

    /// Passes no message of the user's.
    public static let off = MessageFilter()

    public var isEnabled: Bool { !prefixes.isEmpty }

    /// Prefixes popsink writes itself.
    public static let reservedPrefixes: Set<String> = [DDLCapture.prefix, ChangeAssembler.watermarkPrefix]

    public func passes(prefix: String) -> Bool {
        !Self.reservedPrefixes.contains(prefix) && prefixes.contains { prefix.hasPrefix($0) }
    }
}
