// The moment between a pipeline's start and its store's first commit: the
// store file exists but holds no schema yet. Readers of the API (the
// console's tail opens right after a start) see no events then, not a 500.

import CDC
import Foundation
import Testing

@Suite struct EventsBeforeStoreTests {
    @Test func aStoreFileWithoutItsSchemaYetReadsAsNoEvents() async throws {
        let service = try APIFlowTests.Service()
        let source = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "s", "host": "127.0.0.1", "port": 1, "database": "d", "user": "u", "sslmode": "disable",
            ])
        let sourceID = try #require((source.body as? [String: Any])?["id"] as? String, "\(source.raw)")
        let created = try await service.call("PUT", "/v1/pipelines/fresh", json: ["source_id": sourceID])
        #expect(created.status == 201, "\(created.raw)")
        // What the writer leaves for a moment while it creates the store: the file, empty.
        let store = DataDirectory(path: service.directory.path).eventStorePath(pipelineID: "fresh")
        try FileManager.default.createDirectory(
            atPath: (store as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: store, contents: nil))

        let page = try await service.call("GET", "/v1/pipelines/fresh/events?after=0&limit=1")
        #expect(page.status == 200, "\(page.raw)")
        #expect(page.raw == #"{"events":[],"next_after":0,"store":null,"last_seq":0}"#)
        await service.stop()
    }
}
