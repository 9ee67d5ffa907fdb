// The client-side deadline of `PostgresConnection.queryTimeout`: answers that
// come in time are read as `PQexec` would read them; a query or a COPY that
// goes silent for longer is given up with a connection error.

import Foundation
import PostgresReplication
import PostgresTestSupport
import Testing

@Suite struct QueryDeadlineTests {
    @Test func answersWithinTheDeadlineReadAsWithout() throws {
        let connection = try TestPostgres.shared().connect()
        connection.queryTimeout = .seconds(30)
        #expect(try connection.query("SELECT 1 AS a; SELECT 2 AS b").value("b") == "2")
        #expect(try connection.query("SELECT $1::int + 1 AS n", ["41"]).value("n") == "42")
        var rows: [String] = []
        let count = try connection.copyOut("COPY (SELECT g FROM generate_series(1, 3) g) TO STDOUT") {
            rows.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(count == 3)
        #expect(rows == ["1\n", "2\n", "3\n"])
        // A server error is a server error, and the connection stays usable.
        #expect(throws: PostgresError.self) { try connection.query("SELECT 1/0") }
        #expect(try connection.query("SELECT 3 AS c").value("c") == "3")
    }

    @Test func aQueryWithoutAnAnswerIsGivenUp() throws {
        let connection = try TestPostgres.shared().connect()
        connection.queryTimeout = .seconds(1)
        do {
            try connection.query("SELECT pg_sleep(30)")
            Issue.record("a 30 s query returned under a 1 s deadline")
        } catch {
            #expect(error.kind == .connection)
            #expect(error.message.contains("no answer from the server within 1 s"))
        }
    }

    @Test func aCopyThatGoesSilentIsGivenUpButALongOneThatTalksIsNot() throws {
        let connection = try TestPostgres.shared().connect()
        connection.queryTimeout = .seconds(2)
        // Four rows a second apart: 3 s in all, never 2 s of silence. (The
        // server sends COPY data in 8 kB buffers, so each row fills one.)
        let talking = try connection.copyOut(
            "COPY (SELECT g, repeat('x', 20000), pg_sleep(1) FROM generate_series(1, 4) g) TO STDOUT"
        ) { _ in }
        #expect(talking == 4)

        let silent = try TestPostgres.shared().connect()
        silent.queryTimeout = .seconds(1)
        #expect(throws: PostgresError.self) {
            try silent.copyOut("COPY (SELECT 1, pg_sleep(30)) TO STDOUT") { _ in }
        }
    }
}
