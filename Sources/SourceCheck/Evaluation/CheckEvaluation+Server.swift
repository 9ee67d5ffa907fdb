// Verdicts on the server itself: can we connect, is it new enough, does it
// write logical WAL.

import PostgresReplication

extension CheckEvaluation {
    static func connectFailure(_ error: PostgresError) -> CheckResult {
        CheckResult(
            id: .connect, status: .fail, detail: "Could not connect: \(describe(error))",
            remediation: connectRemediation(error))
    }

    /// What to do about a failed connection. libpq gives no SQLSTATE for a
    /// refused connection, so the cases are told apart by libpq's (English)
    /// message, falling back on `PostgresError`'s general advice.
    static func connectRemediation(_ error: PostgresError) -> String? {
        let message = error.message
        func says(_ phrases: String...) -> Bool { phrases.contains { message.contains($0) } }
        let missing = says("does not exist")
        let cases: [(matches: Bool, advice: String)] = [
            (
                says("Connection refused", "timeout expired", "No route to host", "Network is unreachable"),
                "Check that Postgres is running and accepts TCP connections at the source's host and port "
                    + "(listen_addresses and port in postgresql.conf, firewalls)."
            ),
            (says("could not translate host name"), "Check the host name in the source."),
            (
                says("password authentication failed", "no password supplied"),
                "Check the user and password (PGPASSWORD, --password-file or ~/.pgpass)."
            ),
            (
                says("no pg_hba.conf entry"),
                "Allow this client in pg_hba.conf (e.g. `host <database> <user> <client address>/32 scram-sha-256`), "
                    + "then run `SELECT pg_reload_conf();` as a superuser."
            ),
            (missing && says("database"), "Check the database name in the source (dbname), or create the database."),
            (
                missing && says("role"),
                "Check the user name in the source, or create the role: "
                    + "CREATE ROLE <user> WITH LOGIN REPLICATION PASSWORD '<password>';"
            ),
            (
                says("SSL", "certificate"),
                "Check sslmode, sslrootcert and the client certificate settings of the source."
            ),
        ]
        return cases.first { $0.matches }?.advice ?? error.remediation
    }

    /// pgoutput arrived in 10; streaming of in-progress transactions in 14.
    static func serverVersion(number: Int, text: String) -> CheckResult {
        let name = "PostgreSQL \(text)"
        switch number {
        case ..<100000:
            return CheckResult(
                id: .serverVersion, status: .fail,
                detail: "\(name) is too old: logical decoding with pgoutput needs PostgreSQL 10 or later.",
                remediation: "Upgrade the server to PostgreSQL 14 or later.")
        case ..<140000:
            return CheckResult(
                id: .serverVersion, status: .warn,
                detail:
                    "\(name) works, but cannot stream large transactions before they commit (PostgreSQL 14 or later): "
                    + "each is sent whole at commit, after the server has spilled it to disk.",
                remediation: "Upgrade the server to PostgreSQL 14 or later to stream large transactions.")
        default:
            return CheckResult(id: .serverVersion, status: .pass, detail: "\(name).")
        }
    }

    static func walLevel(_ level: WalLevel) -> CheckResult {
        if level.setting == "logical" {
            return CheckResult(id: .walLevel, status: .pass, detail: "wal_level is logical.")
        }
        var detail = "wal_level is \(level.setting); logical decoding needs logical."
        if level.pendingRestart { detail += " A changed setting is waiting for a server restart." }
        return CheckResult(
            id: .walLevel, status: .fail, detail: detail,
            remediation: """
                ALTER SYSTEM SET wal_level = logical;
                -- then restart Postgres: wal_level is read only at server start.
                -- On a managed service set it in the provider's parameters instead (RDS: rds.logical_replication = 1).
                """)
    }
}
