// Source fields hostile to a connection string (spaces, quotes, `=`,
// backslashes, newlines, libpq keywords) registered through the API stay
// values: the conninfo the service builds parses back, with libpq's own
// `PQconninfoParse`, to exactly the fields given and no other keyword; and a
// role whose name, database and password are all such strings authenticates
// with them, landing in that database as that role.

import CDC
import ControlPlane
import Foundation
import PostgresReplication
import PostgresTestSupport
import Testing

@Suite struct HostileSourceFieldsTests {
    static let hostile = [
        "a b", "x' sslmode=disable host=evil", #"back\slash\' \"#, "dbname=postgres user=postgres", "=", "'",
        "tab\tand\nnewline", "host=evil\n port=1", "  leading and trailing  ",
    ]

    /// The stored record of a source, through a second handle on the service's state store.
    static func record(_ service: APIFlowTests.Service, _ id: String) async throws -> SourceRecord? {
        let store = try SQLiteStateStore(path: service.directory.appendingPathComponent("state.sqlite").path)
        return try await store.source(id: id)
    }

    static func credentials(_ service: APIFlowTests.Service) -> SourceCredentialFiles {
        SourceCredentialFiles(dataDirectory: DataDirectory(path: service.directory.path))
    }

    @Test(.timeLimit(.minutes(5)))
    func hostileFieldsSmuggleNoKeyword() async throws {
        let service = try APIFlowTests.Service()
        for value in Self.hostile {
            let fields: [String: Any] = [
                "name": "hostile", "host": value, "port": 5432, "database": value, "user": value, "password": value,
                "sslmode": "require", "options": ["application_name": value, "options": "-c search_path=\(value)"],
            ]
            let created = try await service.call("POST", "/v1/sources", json: fields)
            #expect(created.status == 201, "\(value.debugDescription): \(created.raw)")
            let id = try #require((created.body as? [String: Any])?["id"] as? String)
            let record = try #require(try await Self.record(service, id))
            let conninfo = try Self.credentials(service).settings(for: record).isolated().conninfo()
            let parsed = try ConnectionSettings(parsing: conninfo, allowPassword: true)
            let expected: [String: String] = [
                "host": value, "port": "5432", "dbname": value, "user": value, "password": value,
                "sslmode": "require", "application_name": value, "options": "-c search_path=\(value)",
            ]
            for (keyword, given) in expected {
                #expect(parsed[keyword] == given, "\(keyword) of \(value.debugDescription) in \(conninfo)")
            }
            // Every other keyword is one isolation set, with the value it set.
            let isolated = try Self.credentials(service).settings(for: record).isolated()
            for (keyword, parsedValue) in parsed.parameters where expected[keyword] == nil {
                #expect(
                    isolated[keyword] == parsedValue, "\(keyword)=\(parsedValue) smuggled by \(value.debugDescription)")
            }
        }
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func aRoleNamedAndPasswordedWithHostileStringsAuthenticates() async throws {
        let postgres = try await TestPostgres.shared()
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let role = "o'brien = \"x\" \\ host=evil \(suffix)"
        let database = "db 'quoted' = \\ dbname=postgres \(suffix)"
        let password = "x' sslmode=disable host=evil \\' \"q\"\n password= \(suffix)"
        let identifier = { (name: String) in "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let literal = { (text: String) in "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        try postgres.execute(
            "CREATE ROLE \(identifier(role)) LOGIN PASSWORD \(literal(password)) IN ROLE \(TestPostgres.passwordGroup)")
        try postgres.execute("CREATE DATABASE \(identifier(database)) OWNER \(identifier(role))")
        defer {
            _ = try? postgres.execute("DROP DATABASE IF EXISTS \(identifier(database)) WITH (FORCE)")
            _ = try? postgres.execute("DROP ROLE IF EXISTS \(identifier(role))")
        }
        let application = "app' host=evil user=postgres \\ \(suffix)"
        let service = try APIFlowTests.Service()
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "hostile", "host": postgres.host, "port": postgres.port, "database": database, "user": role,
                "password": password, "sslmode": "disable", "options": ["application_name": application],
            ])
        let id = try #require((created.body as? [String: Any])?["id"] as? String, "\(created.raw)")

        // The service's own connection for the source (the check's) authenticates.
        let check = try await service.call("POST", "/v1/sources/\(id)/check")
        let checks = (check.body as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        #expect(checks.first { $0["id"] as? String == "connect" }?["status"] as? String == "pass", "\(check.raw)")

        // And lands where the fields say, as whom they say: nothing in them became another keyword.
        let record = try #require(try await Self.record(service, id))
        let connection = try PostgresConnection(settings: Self.credentials(service).settings(for: record), mode: .sql)
        let row = try connection.query(
            "SELECT current_user, current_database(), current_setting('application_name')"
        ).rows.first
        #expect(row?[0] == role && row?[1] == database && row?[2] == application, "\(String(describing: row))")

        // A wrong password is refused: the one above was what authenticated.
        let wrong = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "wrong", "host": postgres.host, "port": postgres.port, "database": database, "user": role,
                "password": password + "x", "sslmode": "disable",
            ])
        let wrongID = try #require((wrong.body as? [String: Any])?["id"] as? String, "\(wrong.raw)")
        let refused = try await service.call("POST", "/v1/sources/\(wrongID)/check")
        let connect = ((refused.body as? [String: Any])?["checks"] as? [[String: Any]] ?? []).first {
            $0["id"] as? String == "connect"
        }
        #expect(connect?["status"] as? String == "fail", "\(refused.raw)")
        await service.stop()
    }
}
