// Scenario 8 of the fault suite, with a real second cluster: the source's
// address now leads to a different Postgres (a rebuilt server, a restored
// backup, a wrong failover) holding a database of the same name, the same
// table and publication. The pipeline must refuse it by its system
// identifier, with the remedy, and create nothing there: no slot, no events.

import CDC
import EventStore
import Foundation
import PipelineTestSupport
import PostgresTestSupport
import Testing

extension HeavyTests {
    @Suite struct OtherClusterTests {
        @Test(.timeLimit(.minutes(3)))
        func aDifferentClusterBehindTheSameSourceIsRefused() throws {
            let harness = try CaptureHarness(setup: CaptureHarness.singleTable)
            defer { harness.cleanUp() }
            try harness.execute("INSERT INTO t SELECT generate_series(1, 5)")
            try harness.capture()
            let storedBefore = try harness.allEvents().map(\.id)

            let other = try TestPostgres.privateCluster()
            defer { other.destroy() }
            try other.execute("CREATE DATABASE \(harness.database)")
            try other.execute(
                CaptureHarness.singleTable + "INSERT INTO t SELECT generate_series(1, 5);", database: harness.database)
            var config = try harness.config()
            config.source["port"] = String(other.port)
            guard case .failed(let error) = PipelineWorker(config: config).run() else {
                Issue.record("a pipeline pointed at another cluster must fail")
                return
            }
            print("another cluster reported: \(error)")
            #expect(error.code == .otherSystem)
            #expect(!error.isRetryable)
            #expect(error.remediation?.contains("Point the pipeline back at its server") == true)
            #expect(try other.execute("SELECT count(*) AS n FROM pg_replication_slots").value("n") == "0")
            #expect(try harness.allEvents().map(\.id) == storedBefore)
        }
    }
}
