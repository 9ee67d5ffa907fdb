// The human form of a report, as `popsink-pg check` prints it: a heading, one
// line per check, and under each failure or warning the SQL that fixes it,
// indented, so it can be copied straight into psql.

/// Renders `report` for a terminal.
///
/// - Parameter symbols: `✓ ✗ ! -` marks; `false` prints `PASS FAIL WARN SKIP`
///   for terminals and logs that are not UTF-8.
public func renderText(_ report: CheckReport, symbols: Bool = true) -> String {
    var lines = ["Checking \(report.source) for publication \(SQLText.identifier(report.publication))"]
    if let version = report.serverVersion { lines.append("Server: PostgreSQL \(version)") }
    lines.append("")
    for check in report.checks {
        let detailLines = check.detail.split(separator: "\n", omittingEmptySubsequences: false)
        lines.append("\(mark(check.status, symbols: symbols)) \(check.title): \(detailLines.first ?? "")")
        lines += detailLines.dropFirst().map { "    \($0)" }
        if let remediation = check.remediation, check.status == .fail || check.status == .warn {
            lines += remediation.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
        }
    }
    lines.append("")
    lines.append(summary(report))
    return lines.joined(separator: "\n") + "\n"
}

private func mark(_ status: CheckResult.Status, symbols: Bool) -> String {
    switch status {
    case .pass: symbols ? "✓" : "PASS"
    case .fail: symbols ? "✗" : "FAIL"
    case .warn: symbols ? "!" : "WARN"
    case .skip: symbols ? "-" : "SKIP"
    }
}

private func summary(_ report: CheckReport) -> String {
    func count(_ status: CheckResult.Status) -> Int { report.checks.filter { $0.status == status }.count }
    let failed = count(.fail)
    let warned = count(.warn)
    let skipped = count(.skip)
    var parts = ["\(count(.pass)) passed"]
    if warned > 0 { parts.append("\(warned) warning\(warned == 1 ? "" : "s")") }
    if failed > 0 { parts.append("\(failed) failed") }
    if skipped > 0 { parts.append("\(skipped) skipped") }
    let verdict =
        report.passed
        ? "Ready for capture."
        : "Not ready: run the SQL under each failure, then check again."
    return parts.joined(separator: ", ") + ". " + verdict
}
