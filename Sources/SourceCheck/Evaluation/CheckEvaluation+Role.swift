// The verdict on the role's right to stream.
//
// The role's attributes explain, the replication connection decides. When a
// WAL sender starts, Postgres checks the login role's own REPLICATION attribute
// (`InitPostgres` calls `has_rolreplication`), and role attributes are never
// inherited through membership, so on community Postgres a mere member of a
// replication role is refused. Managed services may differ (on RDS one is
// granted the `rds_replication` role), which is why a working connection wins
// over what the attributes suggest.

import PostgresReplication

extension CheckEvaluation {
    static func replicationRole(
        user: String, role: Result<RoleFacts, PostgresError>, connection: Result<Void, PostgresError>
    ) -> CheckResult {
        let name = SQLText.identifier(user)
        let facts = try? role.get()
        let via = SQLText.list((facts?.replicationRolesViaMembership ?? []).map(SQLText.identifier))
        switch connection {
        case .success:
            let how: String
            if facts?.isSuperuser == true {
                how = "\(name) is a superuser"
            } else if facts?.hasReplication == true {
                how = "\(name) has the REPLICATION attribute"
            } else if !via.isEmpty {
                how = "\(name) is a member of \(via), which this server accepts for replication"
            } else {
                how = "\(name) may replicate"
            }
            return CheckResult(
                id: .replicationRole, status: .pass,
                detail: "\(how); a replication connection (IDENTIFY_SYSTEM) worked.")
        case .failure(let error):
            let lacksAttribute = facts.map { !$0.isSuperuser && !$0.hasReplication } ?? false
            guard lacksAttribute || isRefusedForRights(error) else {
                return CheckResult(
                    id: .replicationRole, status: .fail,
                    detail: "\(name) may replicate, but a replication connection failed: \(describe(error))",
                    remediation: error.remediation)
            }
            var detail = "A replication connection as \(name) was refused: \(describe(error))"
            if !via.isEmpty {
                detail +=
                    " \(name) is a member of \(via), which has REPLICATION, but Postgres does not pass "
                    + "role attributes on through membership: the login role needs REPLICATION itself."
            }
            return CheckResult(
                id: .replicationRole, status: .fail, detail: detail,
                remediation: "ALTER ROLE \(name) WITH REPLICATION;")
        }
    }

    /// Postgres's refusal of a WAL sender for lack of REPLICATION: "must be
    /// superuser or replication role to start walsender" before 16,
    /// "permission denied to start WAL sender" from 16.
    static func isRefusedForRights(_ error: PostgresError) -> Bool {
        error.sqlState == "42501" || error.message.contains("replication role")
            || error.message.contains("permission denied to start WAL sender")
    }
}
