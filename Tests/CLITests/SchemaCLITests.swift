// `popsink-pg schemas` against a pipeline that saw a table change: the newest
// version per table, and with --table the whole history.

import Foundation
import PipelineTestSupport
import Testing

@Suite struct SchemaCLITests {
    @Test func schemasPrintsTheRegistry() throws {
        let harness = try CaptureHarness(
            setup: """
                CREATE TABLE items (id int PRIMARY KEY, price numeric(10,2));
                ALTER TABLE items REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE items;
                """)
        defer { harness.cleanUp() }
        try harness.capture()
        try harness.execute(
            """
            ALTER TABLE items ALTER COLUMN price TYPE numeric(12,2);
            INSERT INTO items VALUES (1, 2.50);
            """)
        try harness.capture()
        let base = ["schemas", "--data-dir", harness.dataDirectory.path, "--pipeline", harness.pipelineID]

        let latest = try PopsinkProcess.run(base)
        #expect(latest.status == 0, "\(latest.output)")
        let latestLines = try Self.objects(latest.output)
        #expect(latestLines.map { $0["version"] as? Int } == [2])
        let columns = try #require(latestLines.first?["columns"] as? [[String: Any]])
        #expect(columns.map { $0["type"] as? String } == ["integer", "numeric(12,2)"])

        let history = try PopsinkProcess.run(base + ["--table", "public.items"])
        #expect(history.status == 0, "\(history.output)")
        let versions = try Self.objects(history.output)
        #expect(versions.map { $0["version"] as? Int } == [1, 2])
        #expect(versions[0]["change"] is NSNull)
        let retyped = (versions[1]["change"] as? [String: Any])?["retyped"] as? [[String: Any]]
        #expect(retyped?.first?["to"] as? String == "numeric(12,2)")

        let unknown = try PopsinkProcess.run(base + ["--table", "public.nothing"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("no schema versions of public.nothing"))
    }

    static func objects(_ output: String) throws -> [[String: Any]] {
        try output.split(separator: "\n").filter { $0.hasPrefix("{") }.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }
}
