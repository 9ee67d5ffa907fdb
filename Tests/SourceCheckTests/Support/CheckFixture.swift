// A database and login role of one test's own on the shared test cluster, so
// checks run in parallel without seeing each other's roles and publications.
// Dropped when the fixture goes away.

import Foundation
import PostgresReplication
import PostgresTestSupport
import SourceCheck
import Testing

final class CheckFixture {
    let server: TestPostgres
    let database: String
    /// The login role the checks connect as.
    let user: String
    private var roles: [String] = []

    /// - Parameters:
    ///   - user: the login role's name; a fresh unique one when nil.
    ///   - attributes: role attributes besides LOGIN, e.g. `REPLICATION`.
    init(user: String? = nil, attributes: String = "") throws {
        server = try TestPostgres.shared()
        database = try server.createDatabase(prefix: "check")
        self.user = user.map { "\($0) \(Self.uniqueSuffix())" } ?? "check_user_\(Self.uniqueSuffix())"
        try createRole(self.user, "LOGIN \(attributes)")
    }

    deinit {
        _ = try? server.execute("DROP DATABASE IF EXISTS \(Self.quote(database)) WITH (FORCE)")
        for role in roles.reversed() { _ = try? server.execute("DROP ROLE IF EXISTS \(Self.quote(role))") }
    }

    /// Creates a cluster-wide role that is dropped with the fixture.
    func createRole(_ name: String, _ attributes: String) throws {
        try server.execute("CREATE ROLE \(Self.quote(name)) WITH \(attributes)")
        roles.append(name)
    }

    /// The login role as SQL.
    var role: String { Self.quote(user) }

    /// Runs SQL in the test's database as the superuser.
    func execute(_ sql: String) throws {
        try server.execute(sql, database: database)
    }

    /// The source as a user would give it, built from parameters so that any
    /// role name works.
    var settings: ConnectionSettings {
        ConnectionSettings(parameters: [
            ("host", server.host), ("port", String(server.port)), ("user", user), ("dbname", database),
        ])
    }

    func check(publication: String = "popsink") -> CheckReport {
        SourceChecker.run(settings: settings, publication: publication)
    }

    /// Runs the remediation a failed check printed, as a superuser would paste
    /// it into psql, and checks again.
    func applyingRemediation(of id: CheckID, publication: String = "popsink", in report: CheckReport) throws
        -> CheckReport
    {
        let remediation = try #require(report[id]?.remediation, "\(id) has no remediation: \(renderText(report))")
        try server.execute(remediation, database: database)
        return check(publication: publication)
    }

    static func quote(_ name: String) -> String { PostgresConnection.quoteIdentifier(name) }

    static func uniqueSuffix() -> String { String(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000) }
}
