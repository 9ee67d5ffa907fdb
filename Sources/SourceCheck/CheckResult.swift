// The outcome of one prerequisite check: what was found and, when it is not
// right, the SQL that makes it right.

/// The outcome of one check.
public struct CheckResult: Sendable, Decodable, Equatable {
    /// How a check came out.
    public enum Status: String, Sendable, Codable {
        /// The prerequisite is met.
        case pass
        /// It works, with a limitation the user should know about.
        case warn
        /// Capture cannot work until this is fixed.
        case fail
        /// Not run, because a check it depends on failed.
        case skip
    }

    /// Stable id, e.g. `wal_level`.
    public var id: CheckID
    /// Short human name.
    public var title: String
    public var status: Status
    /// What was found, in a sentence or two (may span lines for table lists).
    public var detail: String
    /// The SQL or configuration that fixes a failure or warning, ready to
    /// paste; `--` comment lines say what SQL cannot (restarts, who runs it).
    public var remediation: String?

    enum CodingKeys: String, CodingKey { case id, title, status, detail, remediation }

    public init(id: CheckID, status: Status, detail: String, remediation: String? = nil) {
        self.id = id
        self.title = id.title
        self.status = status
        self.detail = detail
        self.remediation = remediation
    }
}
