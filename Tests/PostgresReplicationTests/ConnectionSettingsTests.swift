// Building libpq connection parameters from what users give (a URI or a
// keyword string): parsed by libpq itself, passwords refused on the command
// line and never shown; slot names and protocol versions as Postgres wants them.

import PostgresReplication
import Testing

@Suite struct ConnectionSettingsTests {
    @Test func parsesAURI() throws {
        let settings = try ConnectionSettings(
            parsing: "postgres://app@db.example:6543/orders?sslmode=require&application_name=x%20y")
        #expect(settings["host"] == "db.example")
        #expect(settings["port"] == "6543")
        #expect(settings["user"] == "app")
        #expect(settings["dbname"] == "orders")
        #expect(settings["sslmode"] == "require")
        #expect(settings["application_name"] == "x y")
        #expect(settings.databaseName == "orders")
    }

    @Test func parsesAKeywordStringWithQuotes() throws {
        let settings = try ConnectionSettings(
            parsing: "host=127.0.0.1 port=5432 user=u dbname='my db' options='-c a=b'")
        #expect(settings["dbname"] == "my db")
        #expect(settings["options"] == "-c a=b")
    }

    @Test func theDatabaseDefaultsToTheUser() throws {
        #expect(try ConnectionSettings(parsing: "host=h user=alice").databaseName == "alice")
    }

    @Test func refusesAPasswordUnlessAllowed() throws {
        let refused = try #require(throws: PostgresError.self) {
            try ConnectionSettings(parsing: "postgres://u:secret@h/db")
        }
        #expect(!refused.description.contains("secret"))
        #expect(refused.description.contains("PGPASSWORD"))
        let allowed = try ConnectionSettings(parsing: "host=h user=u password=secret", allowPassword: true)
        #expect(allowed["password"] == "secret")
        #expect(!allowed.redacted.contains("secret"))
        #expect(allowed.redacted.contains("password=********"))
    }

    @Test func refusesWhatLibpqCannotParse() {
        #expect(throws: PostgresError.self) { try ConnectionSettings(parsing: "host=h nonsense") }
        #expect(throws: PostgresError.self) { try ConnectionSettings(parsing: "postgres://h/db?nosuchoption=1") }
    }

    @Test func aSetParameterReplacesTheOldOne() throws {
        var settings = try ConnectionSettings(parsing: "host=h options='-c x=1'")
        settings["options"] = "-c y=2"
        #expect(settings["options"] == "-c y=2")
        #expect(settings.parameters.filter { $0.key == "options" }.count == 1)
        settings["options"] = nil
        #expect(settings["options"] == nil)
    }

    @Test(arguments: [
        ("popsink_orders", true), ("a", true), (String(repeating: "x", count: 63), true),
        ("", false), (String(repeating: "x", count: 64), false), ("Orders", false), ("a-b", false), ("ü", false),
    ])
    func slotNames(name: String, valid: Bool) {
        #expect((SlotName(rawValue: name) != nil) == valid)
    }

    @Test func pgoutputVersionFollowsTheServer() {
        #expect(PostgresConnection.pgoutputProtocolVersion(serverVersion: 130012) == 1)
        #expect(PostgresConnection.pgoutputProtocolVersion(serverVersion: 140000) == 2)
        #expect(PostgresConnection.pgoutputProtocolVersion(serverVersion: 150018) == 3)
        #expect(PostgresConnection.pgoutputProtocolVersion(serverVersion: 170002) == 4)
    }

    @Test func quotesIdentifiersAndLiterals() {
        #expect(PostgresConnection.quoteIdentifier(#"we"ird"#) == #""we""ird""#)
        #expect(PostgresConnection.quoteLiteral("it's") == "'it''s'")
    }
}
