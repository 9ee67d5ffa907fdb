// The verdict on a managed publication: the role may create it (or owns it)
// and owns every table the filters select; else the grants that fix it.

extension CheckEvaluation {
    static func managedPublication(
        _ name: String, _ facts: ManagedPublicationFacts, database: String, user: String
    ) -> CheckResult {
        let quoted = SQLText.identifier(name)
        let role = SQLText.identifier(user)
        var problems: [String] = []
        var fixes: [String] = []
        switch facts.ownsPublication {
        case nil where !facts.canCreate:
            problems.append("\(role) may not create it (no CREATE on database \(SQLText.identifier(database)))")
            fixes.append("GRANT CREATE ON DATABASE \(SQLText.identifier(database)) TO \(role);")
        case false?:
            problems.append("it exists and \(role) does not own it")
            fixes.append("ALTER PUBLICATION \(quoted) OWNER TO \(role);")
        default:
            break
        }
        if !facts.unowned.isEmpty {
            let names = facts.unowned.map { "\(SQLText.display($0.schema, $0.name)) (owner \($0.owner))" }
            problems.append(
                "\(role) does not own \(facts.unowned.count) of the \(facts.tables.count) tables the filters select, "
                    + "and only a table's owner may add it to a publication: \(SQLText.list(names))")
            fixes += facts.unowned.map { "ALTER TABLE \(SQLText.qualified($0.schema, $0.name)) OWNER TO \(role);" }
            var owners: [String] = []
            for table in facts.unowned where !owners.contains(table.owner) { owners.append(table.owner) }
            fixes.append(
                "-- or make \(role) a member of the owners: "
                    + owners.map { "GRANT \(SQLText.identifier($0)) TO \(role);" }.joined(separator: " "))
        }
        let count = "\(facts.tables.count) table\(facts.tables.count == 1 ? "" : "s")"
        guard problems.isEmpty else {
            return CheckResult(
                id: .publication, status: .fail,
                detail: "Managed publication \(quoted) cannot be maintained: \(problems.joined(separator: "; ")).",
                remediation: fixes.joined(separator: "\n"))
        }
        let state = facts.ownsPublication == nil ? "will be created" : "exists"
        let detail =
            "Managed publication \(quoted) \(state), holding the \(count) the filters select; "
            + "\(role) may create and change it."
        guard !facts.tables.isEmpty else {
            return CheckResult(
                id: .publication, status: .warn,
                detail: detail + " The filters select no table yet: nothing will be captured until one is created.")
        }
        return CheckResult(id: .publication, status: .pass, detail: detail)
    }
}
