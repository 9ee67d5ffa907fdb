// A source registered through the API connects with what its record holds and
// nothing else: not the service's PGPASSWORD, not its password file.
//
// The environment is the test process's, shared with the tests running beside
// this one, so each variable is set only around the connection attempt and
// matches only this test's role.

import ControlPlane
import Foundation
import PostgresReplication
import PostgresTestSupport
import Testing

@Suite(.serialized) struct BorrowedCredentialsTests {
    /// A role that must authenticate with a password, and a database of its own.
    private static func passwordRole(_ postgres: TestPostgres) throws -> (
        role: String, secret: String, database: String
    ) {
        let database = try postgres.createDatabase(prefix: "borrow")
        let role = "r_\(database)"
        let secret = "svc-\(UUID().uuidString)"
        try postgres.execute(
            "CREATE ROLE \(role) LOGIN PASSWORD '\(secret)' IN ROLE \(TestPostgres.passwordGroup)")
        return (role, secret, database)
    }

    private static func withEnvironment<T>(_ name: String, _ value: String, _ body: () async throws -> T) async rethrows
        -> T
    {
        setenv(name, value, 1)
        defer { unsetenv(name) }
        return try await body()
    }

    @Test(.timeLimit(.minutes(5)))
    func registeredSourceDoesNotUseTheServicesPasswordFile() async throws {
        let postgres = try await TestPostgres.shared()
        let (role, secret, database) = try Self.passwordRole(postgres)
        let passfile = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)")
        try "\(postgres.host):\(postgres.port):\(database):\(role):\(secret)\n"
            .write(to: passfile, atomically: true, encoding: .utf8)
        chmod(passfile.path, 0o600)
        defer { try? FileManager.default.removeItem(at: passfile) }

        // The CLI's settings use the environment: the password file works for them.
        try await Self.withEnvironment("PGPASSFILE", passfile.path) {
            let cli = try ConnectionSettings(
                parsing: "host=\(postgres.host) port=\(postgres.port) dbname=\(database) user=\(role)")
            #expect(try PostgresConnection(settings: cli, mode: .sql).query("SELECT 1").rows == [["1"]])
        }

        let service = try APIFlowTests.Service()
        let created = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "borrow", "host": postgres.host, "port": postgres.port, "database": database, "user": role,
                "sslmode": "disable",
            ])
        let sourceID = try #require((created.body as? [String: Any])?["id"] as? String, "\(created.raw)")
        let check = try await Self.withEnvironment("PGPASSFILE", passfile.path) {
            try await service.call("POST", "/v1/sources/\(sourceID)/check")
        }
        let checks = (check.body as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        let connect = try #require(checks.first { $0["id"] as? String == "connect" }, "\(check.raw)")
        #expect(connect["status"] as? String == "fail", "\(check.raw)")
        #expect("\(connect["detail"] ?? "")".contains("password"), "\(check.raw)")
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func registeredSourceDoesNotUseTheServicesPGPASSWORD() async throws {
        let postgres = try await TestPostgres.shared()
        let (role, secret, database) = try Self.passwordRole(postgres)
        let record = SourceRecord(
            id: "s", host: postgres.host, port: postgres.port, database: database, user: role, sslmode: "disable",
            createdAt: "", updatedAt: "")
        try await Self.withEnvironment("PGPASSWORD", secret) {
            #expect(throws: PostgresError.self) {
                try PostgresConnection(settings: record.connectionSettings, mode: .sql)
            }
            do {
                _ = try PostgresConnection(settings: record.connectionSettings, mode: .logicalReplication)
                Issue.record("a replication connection borrowed PGPASSWORD")
            } catch {
                #expect("\(error)".contains("password"), "\(error)")
            }
        }
        // With the password in the record the same source connects.
        var withPassword = record
        withPassword.password = secret
        #expect(
            try PostgresConnection(settings: withPassword.connectionSettings, mode: .sql).query("SELECT 1").rows == [
                ["1"]
            ])
    }

    /// Hostile field values stay values: the conninfo string that carries an
    /// isolated source parses back to exactly its fields.
    @Test func quotingKeepsEveryFieldWhole() throws {
        let hostile = ["a b", "x' host=evil", #"back\slash\"#, "dbname=other user=root", "", "tab\tand\nnewline"]
        for value in hostile {
            let settings = ConnectionSettings(
                parameters: [("host", "127.0.0.1"), ("dbname", value), ("user", value), ("password", value)],
                defaults: .none)
            let text = try settings.conninfo()
            let parsed = try ConnectionSettings(parsing: text, allowPassword: true)
            #expect(parsed["dbname"] == value && parsed["user"] == value && parsed["password"] == value)
            #expect(parsed["host"] == "127.0.0.1")
        }
    }

    /// Every keyword libpq would take from the environment is explicit once isolated.
    @Test func isolationLeavesNoKeywordToTheEnvironment() throws {
        let settings = ConnectionSettings(
            parameters: [("host", "h"), ("dbname", "d"), ("user", "u"), ("sslmode", "require")], defaults: .none
        ).isolated()
        #expect(settings["password"] == "")
        #expect(settings["passfile"] == ConnectionSettings.absentFile)
        #expect(settings["sslkey"] == ConnectionSettings.absentFile)
        #expect(settings["sslcert"] == ConnectionSettings.absentFile)
        #expect(settings["sslrootcert"] == ConnectionSettings.absentFile)
        #expect(settings["sslmode"] == "require")
        #expect(settings["port"] == "5432")
        #expect(settings["gssencmode"] == "disable")
        #expect(settings["service"] == nil)
    }
}
