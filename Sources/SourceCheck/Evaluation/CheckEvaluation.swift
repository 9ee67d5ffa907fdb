// Judges the facts read from a server: a pure function from `ServerFacts` to
// one `CheckResult` per `CheckID`, with the SQL that fixes each failure.
//
// No I/O here, so every verdict (a `wal_level` of `replica`, full slots, a
// server too old) is testable without a server in that state.

import PostgresReplication

enum CheckEvaluation {
    /// One result per `CheckID`, in `CheckID.allCases` order.
    static func evaluate(_ read: Result<ServerFacts, PostgresError>, publication: String) -> [CheckResult] {
        let facts: ServerFacts
        switch read {
        case .failure(let error):
            return [connectFailure(error)]
                + CheckID.allCases.dropFirst().map { skipped($0, because: "no connection") }
        case .success(let value):
            facts = value
        }
        var checks: [CheckResult] = [
            CheckResult(
                id: .connect, status: .pass,
                detail:
                    "Connected to database \(SQLText.identifier(facts.database)) as \(SQLText.identifier(facts.user))."),
            serverVersion(number: facts.versionNumber, text: facts.version),
            judged(.walLevel, facts.walLevel, walLevel),
            replicationRole(user: facts.user, role: facts.role, connection: facts.replicationConnection),
        ]
        if let managed = facts.managedPublication {
            // Created by popsink: judged on the role's rights, its tables on those the filters select.
            checks.append(
                judged(.publication, managed) {
                    managedPublication(publication, $0, database: facts.database, user: facts.user)
                })
            if case .success(let found) = managed {
                let tables = PublicationFacts(allTables: false, unpublishedOperations: [], tables: found.tables)
                checks += [replicaIdentity(tables), selectPrivilege(tables, user: facts.user)]
            } else {
                let reason = "the tables could not be read"
                checks += [skipped(.replicaIdentity, because: reason), skipped(.selectPrivilege, because: reason)]
            }
        } else {
            checks.append(
                judged(.publication, facts.publication) {
                    self.publication(publication, $0, database: facts.database, serverVersion: facts.versionNumber)
                })
        }
        if facts.managedPublication != nil {
        } else if case .success(.found(let found)) = facts.publication {
            checks += [replicaIdentity(found), selectPrivilege(found, user: facts.user)]
        } else {
            let reason =
                (try? facts.publication.get()) == nil
                ? "the publication could not be read" : "the publication does not exist"
            checks += [skipped(.replicaIdentity, because: reason), skipped(.selectPrivilege, because: reason)]
        }
        checks += [
            judged(.replicationSlots, facts.slots, replicationSlots),
            judged(.walSenders, facts.walSenders, walSenders),
            transportSecurity(facts.security),
            judged(.ddlCapture, facts.ddlCapture, ddlCapture),
        ]
        return checks
    }

    static func skipped(_ id: CheckID, because reason: String) -> CheckResult {
        CheckResult(id: id, status: .skip, detail: "Not run: \(reason).")
    }

    /// Judges a fact that was read, or fails the check with why it could not be.
    static func judged<Fact>(
        _ id: CheckID, _ fact: Result<Fact, PostgresError>, _ judge: (Fact) -> CheckResult
    ) -> CheckResult {
        switch fact {
        case .success(let value):
            return judge(value)
        case .failure(let error):
            return CheckResult(
                id: id, status: .fail, detail: "Could not be read: \(describe(error))", remediation: error.remediation)
        }
    }

    /// The server's words as a sentence on one line, with the SQLSTATE when
    /// there is one.
    static func describe(_ error: PostgresError) -> String {
        var text = SQLText.oneLine(error.message)
        if let sqlState = error.sqlState {
            if text.hasSuffix(".") { text.removeLast() }
            text += " (SQLSTATE \(sqlState))"
        }
        if let last = text.last, !".?!".contains(last) { text += "." }
        if let hint = error.hint, !hint.isEmpty { text += " Hint: \(SQLText.oneLine(hint))" }
        return text
    }
}
