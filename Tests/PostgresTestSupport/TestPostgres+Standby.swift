// A streaming standby of a private cluster, for the failover scenario: a
// promoted standby has the primary's data and system identifier, but not
// its logical replication slots (Postgres 15 does not copy or sync them).

import Foundation

extension TestPostgres {
    /// Starts a streaming standby of this cluster; stop it with `destroy()`.
    public func standby() throws -> TestPostgres {
        try TestPostgres(standbyOf: self)
    }

    /// `pg_ctl promote`, waiting until the standby accepts writes.
    public func promote() throws {
        let (tool, arguments) = Self.asServerUser(
            self.tool("pg_ctl"), ["promote", "-D", dataDirectory.path, "-w", "-t", "300"])
        try Self.run(tool, arguments)
    }
}
