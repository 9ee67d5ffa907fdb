// A harness on a cluster of the test's own (`TestPostgres.privateCluster`),
// for the fault tests that stop or crash the server.

import EventStore
import Foundation
import PostgresTestSupport

extension CaptureHarness {
    public init(postgres: TestPostgres, setup: String) throws {
        self.postgres = postgres
        database = try postgres.createDatabase()
        dataDirectory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("popsink-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        if !setup.isEmpty { try execute(setup) }
    }

    /// The stored events' highest sequence number, 0 while there is no store yet.
    public func storedSequence() -> Int64 {
        guard FileManager.default.fileExists(atPath: storePath),
            let reader = try? EventStoreReader(path: storePath)
        else { return 0 }
        defer { reader.close() }
        return (try? reader.lastSequence()) ?? 0
    }
}
