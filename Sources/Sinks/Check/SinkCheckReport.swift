// The answer of `POST /v1/pipelines/{id}/sinks/{name}/check`: one result per
// thing the sink needs from its target, each failure or warning with the
// step that fixes it, shaped like the source check's report.

/// The outcome of one check of a sink's target.
public struct SinkCheckResult: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// What the sink needs is there.
        case pass
        /// It works, with something the user should know.
        case warn
        /// Delivery cannot work until this is fixed.
        case fail
        /// Not run, because a check it depends on failed.
        case skip
    }

    /// Stable id, e.g. `connect`, `stream`, `publish`.
    public var id: String
    /// Short human name.
    public var title: String
    public var status: Status
    /// What was found.
    public var detail: String
    /// What fixes a failure or warning: a command, a setting, a permission.
    public var remediation: String?

    public init(id: String, title: String, status: Status, detail: String, remediation: String? = nil) {
        self.id = id
        self.title = title
        self.status = status
        self.detail = detail
        self.remediation = remediation
    }

    /// A check that did not run because `reason`.
    static func skipped(_ id: String, _ title: String, because reason: String) -> SinkCheckResult {
        SinkCheckResult(id: id, title: title, status: .skip, detail: "Not run: \(reason).")
    }
}

/// Every check's result for one sink, in the order they ran.
public struct SinkCheckReport: Sendable, Equatable {
    public var sink: String
    public var type: String
    /// Where the sink delivers, without secrets (servers, brokers, URL).
    public var target: String
    public var checks: [SinkCheckResult]

    /// True when no check failed (warnings do not fail the report).
    public var passed: Bool { !checks.contains { $0.status == .fail } }

    public subscript(id: String) -> SinkCheckResult? { checks.first { $0.id == id } }
}
