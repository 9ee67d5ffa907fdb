// DDL capture is optional: without its event triggers capture works, but a
// schema change reaches the stream only with the table's next row change.
// A warning, never a failure, with the two ways to install it.

extension CheckEvaluation {
    static func ddlCapture(_ installed: Bool) -> CheckResult {
        guard !installed else {
            return CheckResult(
                id: .ddlCapture, status: .pass,
                detail: "The popsink_ddl event triggers write each table DDL into the WAL (prefix popsink.ddl).")
        }
        return CheckResult(
            id: .ddlCapture, status: .warn,
            detail:
                "DDL capture is not installed: a schema change is announced only with the table's next row change, and two ALTERs with no change between them make one version.",
            remediation: """
                -- optional; as a superuser (only superusers may create event triggers):
                -- POST /v1/sources/{id}/ddl-capture, or: popsink-pg check SOURCE --ddl-capture-sql | psql
                """)
    }
}
