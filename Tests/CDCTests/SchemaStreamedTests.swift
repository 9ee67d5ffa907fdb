// A DDL in the middle of a transaction large enough for Postgres to stream
// it before it commits (protocol 2, logical_decoding_work_mem at 64 kB),
// with and without DDL capture: the rows before the ALTER are decoded with
// the old shape, the rows after with the new one, and the version comes
// between them.

import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

@testable import CDC

extension HeavyTests {
    @Suite struct SchemaStreamedTests {
        typealias Streaming = StreamingTests

        @Test(.timeLimit(.minutes(3)), arguments: [false, true])
        func aDDLInsideAStreamedTransactionSplitsItsRowsBetweenVersions(ddlCapture: Bool) throws {
            let harness = try CaptureHarness(setup: Streaming.setup)
            defer { harness.cleanUp() }
            if ddlCapture { try DDLCapture.install(on: harness.postgres.connect(database: harness.database)) }
            try Streaming.captureStreaming(harness)
            try harness.execute(
                """
                BEGIN;
                INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 5000) g;
                ALTER TABLE accounts ADD COLUMN note text DEFAULT 'n';
                INSERT INTO accounts SELECT g, 1 FROM generate_series(5001, 10000) g;
                COMMIT;
                """)
            try Streaming.captureStreaming(harness)
            #expect(try Streaming.streamedTransactions(harness) >= 1, "Postgres did not stream the transaction")
            let events = try harness.allEvents()
            let inserts = events.filter { $0.op == "c" }
            #expect(inserts.count == 10_000)
            let before = inserts.filter { intValue($0.after?["id"])! <= 5000 }
            let after = inserts.filter { intValue($0.after?["id"])! > 5000 }
            #expect(before.allSatisfy { $0.source["schema_version"] as? Int == 1 && $0.after?["note"] == nil })
            #expect(
                after.allSatisfy { $0.source["schema_version"] as? Int == 2 && $0.after?["note"] as? String == "n" })
            let order = events.map(\.op).split(separator: "c", omittingEmptySubsequences: true).map { $0.joined() }
            #expect(order == ["s", ddlCapture ? "sm" : "s"], "v1 first, then v2 between the two halves")
            let reader = try EventStoreReader(path: harness.storePath)
            defer { reader.close() }
            #expect(try reader.tableSchemaHistory(schema: "public", table: "accounts").map(\.version) == [1, 2])
        }
    }
}
