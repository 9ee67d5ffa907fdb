// The two forms of a report: the text `popsink-pg check` prints and the JSON
// of `--json` and the API.

import Foundation
import Testing

@testable import SourceCheck

@Suite struct ReportRenderingTests {
    static let report = CheckReport(
        source: "host=db.internal port=5432 user=app dbname=shop password=********", publication: "popsink",
        serverVersion: "15.4",
        checks: [
            CheckResult(id: .connect, status: .pass, detail: "Connected."),
            CheckResult(id: .serverVersion, status: .warn, detail: "Old.", remediation: "Upgrade."),
            CheckResult(
                id: .replicaIdentity, status: .fail, detail: "Two tables lack it.",
                remediation:
                    "ALTER TABLE \"public\".\"a\" REPLICA IDENTITY FULL;\nALTER TABLE \"public\".\"b\" REPLICA IDENTITY FULL;"
            ),
            CheckResult(id: .selectPrivilege, status: .skip, detail: "Not run."),
        ])

    @Test func textHasOneLinePerCheckWithTheFixIndentedUnderIt() {
        let text = renderText(Self.report)
        #expect(
            text == """
                Checking host=db.internal port=5432 user=app dbname=shop password=******** for publication "popsink"
                Server: PostgreSQL 15.4

                ✓ Connection: Connected.
                ! Server version: Old.
                    Upgrade.
                ✗ Replica identity FULL: Two tables lack it.
                    ALTER TABLE "public"."a" REPLICA IDENTITY FULL;
                    ALTER TABLE "public"."b" REPLICA IDENTITY FULL;
                - SELECT privilege: Not run.

                1 passed, 1 warning, 1 failed, 1 skipped. Not ready: run the SQL under each failure, then check again.

                """)
    }

    @Test func textWithoutSymbolsSpellsTheStatusOut() {
        let lines = renderText(Self.report, symbols: false).split(separator: "\n")
        #expect(lines.contains("PASS Connection: Connected."))
        #expect(lines.contains("FAIL Replica identity FULL: Two tables lack it."))
        #expect(lines.contains("WARN Server version: Old."))
        #expect(lines.contains("SKIP SELECT privilege: Not run."))
    }

    @Test func passingReportSaysReady() {
        let report = CheckReport(
            source: "host=x", publication: "popsink", serverVersion: nil,
            checks: [CheckResult(id: .connect, status: .pass, detail: "Connected.")])
        #expect(report.passed)
        #expect(renderText(report).hasSuffix("1 passed. Ready for capture.\n"))
    }

    @Test func jsonUsesStableSnakeCaseNamesAndRoundTrips() throws {
        let data = Data(Self.report.json)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        #expect(object["server_version"] as? String == "15.4")
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks[2]["id"] as? String == "replica_identity")
        #expect(checks[2]["status"] as? String == "fail")
        #expect(checks[2]["title"] as? String == "Replica identity FULL")
        #expect(checks[0]["remediation"] is NSNull, "present and null when there is nothing to fix")
        #expect(try JSONDecoder().decode(CheckReport.self, from: data) == Self.report)
    }

    @Test func unknownServerVersionIsNullNotMissing() throws {
        let report = CheckReport(
            source: "host=x", publication: "popsink", serverVersion: nil,
            checks: [CheckResult(id: .connect, status: .fail, detail: "Connection refused.")])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(report.json)) as? [String: Any])
        #expect(object.keys.contains("server_version"))
        #expect(object["server_version"] is NSNull)
        #expect(try JSONDecoder().decode(CheckReport.self, from: Data(report.json)) == report)
    }

    @Test func checkIdsAreStable() {
        #expect(
            CheckID.allCases.map(\.rawValue) == [
                "connect", "server_version", "wal_level", "replication_role", "publication",
                "replica_identity", "select_privilege", "replication_slots", "wal_senders", "tls", "ddl_capture",
            ])
    }
}
