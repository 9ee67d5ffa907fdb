// Row conditions rendered with libpq's quoting, against the throwaway
// Postgres: each hostile value (quotes, backslashes, a statement of its own,
// unicode) selects exactly the row that holds it, byte for byte, under both
// settings of standard_conforming_strings, and the table is intact after.
// The catalog gives the columns, their types without modifiers, and the
// replica identity's columns.

import Blocking
import CDC
import PostgresReplication
import PostgresTestSupport
import Testing

@Suite struct RowConditionLiveTests {
    static let hostile = [
        "it's", "'); DROP TABLE t; --", "back\\slash", "\\'", "''", "trailing\\", "E'x'", "$$dollar$$",
        "ünïcødé ✓ 𝄞", "line\nbreak\ttab", "%_like", "",
    ]

    @Test(.timeLimit(.minutes(5)), arguments: ["on", "off"])
    func hostileValuesAreLiterals(_ standardStrings: String) async throws {
        let postgres = try await TestPostgres.shared()
        try await Blocking.run { () throws(any Error) in
            let database = try postgres.createDatabase()
            let connection = try postgres.connect(database: database)
            try connection.query(
                """
                CREATE TABLE t (id int PRIMARY KEY, s varchar(40), n numeric(10,2));
                CREATE TABLE side (id int);
                SET standard_conforming_strings = \(standardStrings);
                """)
            for (index, value) in Self.hostile.enumerated() {
                try connection.query("INSERT INTO t (id, s) VALUES ($1, $2)", [String(index), value])
            }
            let columns = try #require(try TableColumns.read(schema: "public", table: "t", connection: connection))
            #expect(columns.columns.map(\.type) == ["integer", "character varying", "numeric"])
            for (index, value) in Self.hostile.enumerated() {
                let condition = RowCondition([RowPredicate("s", .equal, .string(value))])
                let sql = try condition.sql(on: columns) { try connection.escapeLiteral($0) }
                let rows = try connection.query("SELECT id FROM t WHERE \(sql)").rows
                #expect(rows.map { $0[0] } == [String(index)], "\(value.debugDescription): \(sql)")
            }
            // An in list of all of them, and like with its wildcards as the user's.
            let all = RowCondition([RowPredicate(column: "s", op: .in, values: Self.hostile.map { .string($0) })])
            let allSQL = try all.sql(on: columns) { try connection.escapeLiteral($0) }
            #expect(try connection.query("SELECT count(*) FROM t WHERE \(allSQL)").rows.first?[0] == "12")
            let like = RowCondition([RowPredicate("s", .like, .string("%\\_like"))])
            let likeSQL = try like.sql(on: columns) { try connection.escapeLiteral($0) }
            #expect(try connection.query("SELECT s FROM t WHERE \(likeSQL)").rows.map { $0[0] } == ["%_like"])
            // No type modifier on the cast: 1.234 stays 1.234 against numeric(10,2).
            try connection.query("UPDATE t SET n = 1.23 WHERE id = 0")
            let above = RowCondition([RowPredicate("n", .greaterOrEqual, .number("1.234"))])
            let aboveSQL = try above.sql(on: columns) { try connection.escapeLiteral($0) }
            #expect(try connection.query("SELECT count(*) FROM t WHERE \(aboveSQL)").rows.first?[0] == "0")
            #expect(try connection.query("SELECT count(*) FROM side").rows.first?[0] == "0", "side is intact")
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func theCatalogGivesTheReplicaIdentity() async throws {
        let postgres = try await TestPostgres.shared()
        try await Blocking.run { () throws(any Error) in
            let database = try postgres.createDatabase()
            let connection = try postgres.connect(database: database)
            try connection.query(
                """
                CREATE TABLE keyed (id int, region text, v int, PRIMARY KEY (id, region));
                CREATE TABLE indexed (id int NOT NULL, v int);
                CREATE UNIQUE INDEX indexed_id ON indexed (id);
                ALTER TABLE indexed REPLICA IDENTITY USING INDEX indexed_id;
                CREATE TABLE full_table (id int, v int);
                ALTER TABLE full_table REPLICA IDENTITY FULL;
                ALTER TABLE keyed DROP COLUMN v;
                """)
            func read(_ table: String) throws -> TableColumns? {
                try TableColumns.read(schema: "public", table: table, connection: connection)
            }
            let keyed = try #require(try read("keyed"))
            #expect(keyed.columns.map(\.name) == ["id", "region"] && keyed.columns.allSatisfy(\.inIdentity))
            #expect(!keyed.identityFull)
            let indexed = try #require(try read("indexed"))
            #expect(indexed.columns.map(\.inIdentity) == [true, false])
            let full = try #require(try read("full_table"))
            #expect(full.identityFull && full.columns.allSatisfy { !$0.inIdentity })
            #expect(try read("missing") == nil)
        }
    }
}
