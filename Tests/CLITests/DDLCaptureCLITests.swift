// `popsink-pg check` and DDL capture: the check warns (without failing)
// while the event triggers are missing, `--ddl-capture-sql` prints the SQL
// for a superuser, and `--install-ddl-capture` installs it, after which the
// check passes and a DDL writes its message into the WAL.

import Foundation
import PipelineTestSupport
import Testing

@Suite struct DDLCaptureCLITests {
    static func ddlCheck(_ output: String) throws -> [String: Any]? {
        let report = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        return (report?["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "ddl_capture" }
    }

    @Test func checkWarnsUntilDDLCaptureIsInstalled() throws {
        let harness = try CaptureHarness(setup: CaptureHarness.singleTable)
        defer { harness.cleanUp() }
        let before = try PopsinkProcess.run(["check", harness.connectionString, "--json"])
        #expect(before.status == 0, "a warning does not fail the check: \(before.output)")
        let warning = try #require(try Self.ddlCheck(before.output), "\(before.output)")
        #expect(warning["status"] as? String == "warn")
        #expect((warning["remediation"] as? String)?.contains("ddl-capture") == true)

        let sql = try PopsinkProcess.run(["check", harness.connectionString, "--ddl-capture-sql"])
        #expect(sql.status == 0)
        #expect(sql.output.contains("CREATE EVENT TRIGGER popsink_ddl_command_end ON ddl_command_end"))
        #expect(try harness.execute("SELECT count(*) FROM pg_event_trigger").rows == [["0"]])

        let installed = try PopsinkProcess.run(["check", harness.connectionString, "--install-ddl-capture", "--json"])
        #expect(installed.status == 0, "\(installed.output)")
        #expect(try Self.ddlCheck(installed.output)?["status"] as? String == "pass", "\(installed.output)")

        // The trigger's message is in the WAL of the DDL's transaction.
        try harness.execute("SELECT pg_create_logical_replication_slot('ddl_\(harness.database)', 'test_decoding')")
        try harness.execute("ALTER TABLE t ADD COLUMN note text")
        let changes = try harness.execute(
            "SELECT data FROM pg_logical_slot_get_changes('ddl_\(harness.database)', NULL, NULL)")
        try harness.execute("SELECT pg_drop_replication_slot('ddl_\(harness.database)')")
        let message = changes.rows.compactMap { $0[0] }.first { $0.contains("prefix: popsink.ddl") }
        #expect(message?.contains("transactional: 1") == true, "\(changes.rows)")
        #expect(message?.contains(#""sql": "ALTER TABLE t ADD COLUMN note text""#) == true, "\(changes.rows)")
        #expect(message?.contains(#""name": "note""#) == true, "\(changes.rows)")
    }
}
