// The `snapshot` object of a pipeline (how its snapshot reads): through
// the API, in the state store across a restart of the service, validated like
// the CLI's options, and into the configuration the pipeline runs with.

import CDC
import EventStore
import Foundation
import PostgresTestSupport
import Testing

@testable import ControlPlane

@Suite struct SnapshotSettingsTests {
    typealias Service = APIFlowTests.Service

    /// A source that is never connected to: enough for pipelines that stay stopped.
    private func source(_ service: Service) async throws -> String {
        let created = try await service.call(
            "POST", "/v1/sources", json: ["name": "n", "host": "h", "database": "d", "user": "u"])
        return try #require((created.body as? [String: Any])?["id"] as? String)
    }

    /// The snapshot's numeric settings; `enabled` is checked on its own.
    private func settings(_ body: Any?) -> [String: Int]? {
        ((body as? [String: Any])?["snapshot"] as? [String: Any])?.filter { $0.key != "enabled" } as? [String: Int]
    }

    private func enabled(_ body: Any?) -> Bool? {
        ((body as? [String: Any])?["snapshot"] as? [String: Any])?["enabled"] as? Bool
    }

    @Test func setThroughTheAPIAndKeptAcrossARestart() async throws {
        var service = try Service()
        let sourceID = try await source(service)
        let given = ["workers": 3, "chunk_pages": 512, "rows_per_group": 2500]
        let created = try await service.call(
            "POST", "/v1/pipelines",
            json: [
                "id": "tuned", "source_id": sourceID, "snapshot": given,
            ])
        #expect(created.status == 201, "\(created.body ?? "")")
        #expect(settings(created.body) == given)
        #expect(settings(try await service.call("GET", "/v1/pipelines/tuned").body) == given)
        let listed = try await service.call("GET", "/v1/pipelines")
        #expect(settings((listed.body as? [[String: Any]])?.first) == given)
        #expect(enabled(created.body) == true)
        // PUT of the same body changes nothing; a field left out takes its default again.
        let same = try await service.call(
            "PUT", "/v1/pipelines/tuned", json: ["source_id": sourceID, "snapshot": given])
        #expect(same.status == 200)
        #expect(
            (same.body as? [String: Any])?["updated_at"] as? String == (created.body as? [String: Any])?["updated_at"]
                as? String)
        let partial = try await service.call(
            "PUT", "/v1/pipelines/tuned",
            json: [
                "source_id": sourceID, "snapshot": ["workers": 5],
            ])
        let defaults = SnapshotOptions()
        let expected = ["workers": 5, "chunk_pages": Int(defaults.chunkPages), "rows_per_group": defaults.rowsPerGroup]
        #expect(settings(partial.body) == expected)
        let off = try await service.call(
            "PUT", "/v1/pipelines/tuned",
            json: [
                "source_id": sourceID, "snapshot": ["enabled": false, "workers": 5],
            ])
        #expect(enabled(off.body) == false, "\(off.raw)")
        #expect(settings(off.body) == expected)

        await service.stop(keepingData: true)
        service = try Service(directory: service.directory)
        let reopened = try await service.call("GET", "/v1/pipelines/tuned")
        #expect(settings(reopened.body) == expected)
        #expect(enabled(reopened.body) == false)
        await service.stop()
    }

    @Test func leftOutMeansTheDefaultsOfTheCLI() async throws {
        let service = try Service()
        let created = try await service.call(
            "PUT", "/v1/pipelines/plain", json: ["source_id": try await source(service)])
        let defaults = SnapshotOptions()
        #expect(
            settings(created.body) == [
                "workers": ProcessInfo.processInfo.activeProcessorCount, "chunk_pages": Int(defaults.chunkPages),
                "rows_per_group": defaults.rowsPerGroup,
            ])
        await service.stop()
    }

    @Test func outOfBoundsOrMistypedValuesAre422NamingTheField() async throws {
        let service = try Service()
        let sourceID = try await source(service)
        let cases: [(snapshot: Any, fields: Set<String>)] = [
            (["workers": 0], ["snapshot.workers"]),
            (["workers": 65], ["snapshot.workers"]),
            (["workers": "4"], ["snapshot.workers"]),
            (["workers": 2.5], ["snapshot.workers"]),
            (["workers": true], ["snapshot.workers"]),
            (["chunk_pages": 0], ["snapshot.chunk_pages"]),
            (["chunk_pages": 4_294_967_296], ["snapshot.chunk_pages"]),
            (["rows_per_group": 0], ["snapshot.rows_per_group"]),
            (["rows_per_group": -1, "workers": 99], ["snapshot.workers", "snapshot.rows_per_group"]),
            (["rows_per_group": 1e300], ["snapshot.rows_per_group"]),
            (["colour": "blue"], ["snapshot.colour"]),
            (["enabled": "no"], ["snapshot.enabled"]),
            (["enabled": 0], ["snapshot.enabled"]),
            ([4], ["snapshot"]),
            ("fast", ["snapshot"]),
        ]
        for (snapshot, fields) in cases {
            let response = try await service.call(
                "PUT", "/v1/pipelines/bad", json: ["source_id": sourceID, "snapshot": snapshot])
            #expect(response.status == 422, "\(snapshot): \(response.raw)")
            let errors = ((response.body as? [String: Any])?["errors"] as? [[String: Any]]) ?? []
            #expect(Set(errors.compactMap { $0["field"] as? String }) == fields, "\(snapshot): \(response.raw)")
        }
        let bounds = try await service.call(
            "PUT", "/v1/pipelines/bad", json: ["source_id": sourceID, "snapshot": ["workers": 65]])
        #expect(bounds.raw.contains("between 1 and 64"), "\(bounds.raw)")
        // The snapshot has one name: the old top-level flag is an unknown field.
        let old = try await service.call(
            "PUT", "/v1/pipelines/bad", json: ["source_id": sourceID, "initial_load": false])
        #expect(old.status == 422 && old.raw.contains("initial_load"), "\(old.raw)")
        #expect(try await service.call("GET", "/v1/pipelines/bad").status == 404)
        // The largest values are accepted.
        let largest = ["workers": 64, "chunk_pages": 4_294_967_295, "rows_per_group": 9_007_199_254_740_991]
        let accepted = try await service.call(
            "PUT", "/v1/pipelines/big", json: ["source_id": sourceID, "snapshot": largest])
        #expect(accepted.status == 201, "\(accepted.raw)")
        #expect(settings(accepted.body) == largest)
        await service.stop()
    }

    /// A data directory from before `snapshot` existed, written as that
    /// version left it (through GRDB: tables `sources` and `pipelines` and
    /// GRDB's migration log): it opens, moved in place to the current layout;
    /// its pipeline records have no `snapshot` and open with the defaults,
    /// except `enabled`, which they kept as `initialLoad`.
    @Test func recordsSavedBeforeSnapshotSettingsOpenWithDefaults() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.sqlite").path
        let now = Timestamps.now()
        let source = SourceRecord(
            id: "s", host: "h", database: "d", user: "u", password: "pw", createdAt: now, updatedAt: now)
        var record = try #require(
            try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(
                    PipelineRecord(id: "old", sourceID: "s", publication: "pub", createdAt: now, updatedAt: now)))
                as? [String: Any])
        #expect(record.removeValue(forKey: "snapshot") != nil)
        record["initialLoad"] = false
        let oldPipeline = String(
            decoding: try JSONSerialization.data(withJSONObject: record, options: .sortedKeys), as: UTF8.self)
        let oldSource = String(decoding: try JSONEncoder().encode(source), as: UTF8.self)
        do {
            let database = try SQLiteConnection(path: path, mode: .readWrite(create: true))
            defer { database.close() }
            func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
            try database.execute(
                """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1');
                CREATE TABLE sources (id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE pipelines (id TEXT PRIMARY KEY, source_id TEXT NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
                INSERT INTO sources VALUES ('s', \(quoted(oldSource)));
                INSERT INTO pipelines VALUES ('old', 's', \(quoted(oldPipeline)));
                """, operation: "write a version 1 state store")
        }

        let reopened = try SQLiteStateStore(path: path)
        let opened = try #require(try await reopened.pipeline(id: "old"))
        var settings = SnapshotSettings()
        settings.enabled = false
        #expect(opened.snapshot == settings)
        #expect(opened.publication == "pub")
        #expect(try await reopened.source(id: "s") == source)
        // Moved, not copied: saved and read again through a second opening.
        try await reopened.save(PipelineRecord(id: "new", sourceID: "s", createdAt: now, updatedAt: now))
        let again = try SQLiteStateStore(path: path)
        #expect(try await again.pipelines().map(\.id) == ["new", "old"])
        #expect(try await again.pipeline(id: "old")?.snapshot.enabled == false)
    }

    @Test func boundsAreCheckedWhenARecordIsDecoded() throws {
        let stored = #"{"workers":0}"#
        #expect(throws: SnapshotSettings.OutOfBounds.self) {
            try JSONDecoder().decode(SnapshotSettings.self, from: Data(stored.utf8))
        }
        let settings = try SnapshotSettings(workers: 2, chunkPages: nil, rowsPerGroup: 10)
        let decoded = try JSONDecoder().decode(SnapshotSettings.self, from: try JSONEncoder().encode(settings))
        #expect(decoded == settings)
        #expect(
            decoded.options() == SnapshotOptions(workers: 2, chunkPages: SnapshotOptions().chunkPages, rowsPerGroup: 10)
        )
    }

    /// The settings reach the pipeline the registry starts: its configuration
    /// carries them, and the load is cut into chunks of `chunk_pages` pages;
    /// after a restart of the service, the stored settings start it again.
    @Test(.timeLimit(.minutes(5)))
    func theLoadRunsWithTheSettings() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        try postgres.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, v text);
            ALTER TABLE t REPLICA IDENTITY FULL;
            INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g;
            CREATE PUBLICATION popsink FOR TABLE t;
            """, database: database)
        let pages = try #require(
            Int(
                try postgres.execute(
                    "SELECT pg_relation_size('t') / current_setting('block_size')::int AS pages", database: database
                ).value("pages") ?? ""))
        #expect(pages > 10)
        var service = try Service()
        let pipelineID = "p\(database)"
        try await service.runningPipeline(
            pipelineID, on: postgres, database: database,
            settings: ["snapshot": ["workers": 3, "chunk_pages": 4, "rows_per_group": 700]])
        let expected = SnapshotOptions(workers: 3, chunkPages: 4, rowsPerGroup: 700)
        #expect(service.registry.config(pipelineID)?.snapshot == expected)

        let current = try await service.status(pipelineID, once: "streaming")
        #expect(current["state"] as? String == "streaming", "\(current)")
        let table = try #require(
            ((current["snapshot"] as? [String: Any])?["tables"] as? [[String: Any]])?.first, "\(current)")
        #expect(table["rows_done"] as? Int == 2000)
        #expect(table["chunks_total"] as? Int == (pages + 3) / 4, "\(pages) pages: \(table)")

        await service.stop(keepingData: true)
        service = try Service(directory: service.directory)
        #expect(service.registry.config(pipelineID) == nil)
        await service.registry.resume()
        #expect(service.registry.config(pipelineID)?.snapshot == expected)
        await service.stop()
    }
}
