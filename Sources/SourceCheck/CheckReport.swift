// The whole answer of `popsink-pg check` and `POST /v1/sources/{id}/check`.

/// Every check's result for one source, in a fixed order.
public struct CheckReport: Sendable, Decodable, Equatable {
    /// The connection settings checked, without secrets.
    public var source: String
    /// The publication the checks were run against.
    public var publication: String
    /// The server's `server_version`, e.g. `15.4 (Debian 15.4-1)`; nil when
    /// no connection could be made.
    public var serverVersion: String?
    /// One result per `CheckID`, in `CheckID.allCases` order.
    public var checks: [CheckResult]

    /// True when no check failed (warnings do not fail the report).
    public var passed: Bool { !checks.contains { $0.status == .fail } }

    public init(source: String, publication: String, serverVersion: String?, checks: [CheckResult]) {
        self.source = source
        self.publication = publication
        self.serverVersion = serverVersion
        self.checks = checks
    }

    /// The result of one check.
    public subscript(id: CheckID) -> CheckResult? { checks.first { $0.id == id } }

    enum CodingKeys: String, CodingKey {
        case source, publication, checks
        case serverVersion = "server_version"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(String.self, forKey: .source)
        publication = try container.decode(String.self, forKey: .publication)
        serverVersion = try container.decodeIfPresent(String.self, forKey: .serverVersion)
        checks = try container.decode([CheckResult].self, forKey: .checks)
    }
}
