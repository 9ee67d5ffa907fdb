// The database most API tests stream from: one table `t`, published by
// `popsink`.

import PostgresTestSupport

extension TestPostgres {
    /// A new database with table `t (columns)` in publication `popsink`;
    /// REPLICA IDENTITY FULL unless `replicaIdentityFull` is false.
    func databaseWithTableT(_ columns: String = "id int PRIMARY KEY, v text", replicaIdentityFull: Bool = true)
        throws -> String
    {
        let database = try createDatabase()
        try execute(
            """
            CREATE TABLE t (\(columns));
            \(replicaIdentityFull ? "ALTER TABLE t REPLICA IDENTITY FULL;" : "")
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)
        return database
    }
}
