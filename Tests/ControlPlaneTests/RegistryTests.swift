// The control plane's state store and pipeline registry against a real
// Postgres: records persist, and a restarted service resumes the pipelines
// that were running, from their checkpoints, with no gap and no double.

import CDC
import ControlPlane
import EventStore
import Foundation
import PostgresTestSupport
import Testing

@Suite struct RegistryTests {
    @Test func storeKeepsRecordsAcrossReopening() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.sqlite").path
        let now = Timestamps.now()
        let source = SourceRecord(
            id: "src1", host: "127.0.0.1", database: "app", user: "u", password: "secret",
            options: ["connect_timeout": "5"], createdAt: now, updatedAt: now)
        let pipeline = PipelineRecord(
            id: "p1", sourceID: "src1", desiredState: .running, createdAt: now, updatedAt: now)
        do {
            let store = try SQLiteStateStore(path: path)
            try await store.save(source)
            try await store.save(pipeline)
            // Reads are served from memory: a write shows at once, a delete too.
            #expect(try await store.pipeline(id: "p1") == pipeline)
            let other = PipelineRecord(id: "p0", sourceID: "src1", createdAt: now, updatedAt: now)
            try await store.save(other)
            #expect(try await store.pipelines() == [other, pipeline])
            #expect(try await store.deletePipeline(id: "p0"))
            #expect(try await store.pipeline(id: "p0") == nil)
            var renamed = source
            renamed.name = "renamed"
            try await store.save(renamed)
            #expect(try await store.source(id: "src1")?.name == "renamed")
            try await store.save(source)
        }
        let reopened = try SQLiteStateStore(path: path)
        #expect(try await reopened.source(id: "src1") == source)
        #expect(try await reopened.pipelines() == [pipeline])
        #expect(try await reopened.deleteSource(id: "src1"))
        #expect(try await !reopened.deleteSource(id: "src1"))
        #expect(try await reopened.sources().isEmpty)
        // Records hold passwords: the file is readable by its owner only.
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func sourceValidationNamesTheField() {
        let source = SourceRecord(
            id: "bad id", host: "", port: 70000, database: "d", user: "u", sslmode: "sometimes",
            options: ["host": "evil"], createdAt: "", updatedAt: "")
        #expect(Set(source.validationErrors.map(\.field)) == ["id", "host", "port", "sslmode", "options.host"])
        // Fields are passed keyword by keyword: a value cannot add another keyword.
        let tricky = SourceRecord(
            id: "s", host: "h", database: "db user=postgres", user: "u", createdAt: "", updatedAt: "")
        #expect(tricky.connectionSettings["dbname"] == "db user=postgres")
        #expect(tricky.connectionSettings["user"] == "u")
    }

    @Test(.timeLimit(.minutes(5)))
    func restartedServiceResumesRunningPipelinesWithoutGapOrDouble() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT("id int PRIMARY KEY")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("svc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDirectory = DataDirectory(path: directory.path)
        let store = try SQLiteStateStore(path: directory.appendingPathComponent("state.sqlite").path)
        let now = Timestamps.now()
        let pipelineID = "p\(database)"
        try await store.save(
            SourceRecord(
                id: "src", host: postgres.host, port: postgres.port, database: database, user: postgres.superuser,
                sslmode: "disable", createdAt: now, updatedAt: now))
        try await store.save(PipelineRecord(id: pipelineID, sourceID: "src", createdAt: now, updatedAt: now))
        let slot = PipelineConfig.defaultSlot(pipelineID: pipelineID)!
        defer { _ = try? postgres.execute("SELECT pg_drop_replication_slot('\(slot)')") }

        func storedIDs() throws -> [Int] {
            let path = dataDirectory.eventStorePath(pipelineID: pipelineID)
            guard FileManager.default.fileExists(atPath: path) else { return [] }
            return try EventStoreReader(path: path).events(after: 0, limit: 1000).compactMap { event in
                let object = try JSONSerialization.jsonObject(with: Data(event.body)) as? [String: Any]
                return (object?["after"] as? [String: Any])?["id"] as? Int
            }
        }
        func waitFor(_ expected: [Int]) async throws {
            for _ in 0..<300 where try storedIDs() != expected { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try storedIDs() == expected)
        }

        let first = PipelineRegistry(store: store, dataDirectory: dataDirectory)
        #expect(first.status(pipelineID).state == .created)
        try await first.start(pipelineID)
        #expect(await eventually { first.status(pipelineID).state == .streaming })
        try postgres.execute("INSERT INTO t VALUES (1), (2)", database: database)
        try await waitFor([1, 2])
        await first.shutdown()  // the service goes away; the pipeline should run again

        try postgres.execute("INSERT INTO t VALUES (3)", database: database)  // written while it was down
        let second = PipelineRegistry(store: store, dataDirectory: dataDirectory)
        await second.resume()
        try postgres.execute("INSERT INTO t VALUES (4)", database: database)
        try await waitFor([1, 2, 3, 4])

        // A stopped pipeline stays stopped across a restart.
        try await second.stop(pipelineID)
        #expect(try await store.pipeline(id: pipelineID)?.desiredState == .stopped)
        let third = PipelineRegistry(store: store, dataDirectory: dataDirectory)
        await third.resume()
        #expect(third.status(pipelineID).state == .stopped)
        await #expect(throws: PipelineRegistry.Failure.unknownPipeline("nope")) { try await third.start("nope") }
    }
}
