// GET /v1/pipelines/{id}/events/stream over a real socket: events arrive as
// they are stored, and a reconnect with Last-Event-ID continues with no
// repeat and no gap. Bounds are generous: only what arrives is asserted.

import Foundation
import PostgresTestSupport
import Testing

@Suite struct EventStreamTests {
    @Test(.timeLimit(.minutes(3)))
    func streamsIncrementallyAndResumesFromLastEventID() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT()
        let service = try APIFlowTests.Service()
        let pipelineID = "sse\(database)"
        try await service.runningPipeline(pipelineID, on: postgres, database: database)
        try #require(try await LifecycleTests.waitForState(service, pipelineID, "streaming") == "streaming")

        try postgres.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')", database: database)
        let first = try SSETestClient(base: service.base, path: "/v1/pipelines/\(pipelineID)/events/stream")
        try await first.readHead()
        #expect(first.status == 200)
        #expect(first.headers["content-type"] == "text/event-stream")
        #expect(first.headers["cache-control"] == "no-store")
        #expect(try await first.nextMessage()?.retry == "2000")
        // The snapshot's `s` event for t (seq 1), then the two inserts.
        let opening = try await first.changes(3)
        // `id:` is STORE:SEQ, the store being the one pages name.
        let page = try #require(
            try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&limit=1").body as? [String: Any])
        let store = try #require(page["store"] as? String)
        #expect(page["last_seq"] as? Int == 3)
        #expect(opening.map(\.id) == ["\(store):1", "\(store):2", "\(store):3"])
        let event = try #require(
            opening.dropFirst().first?.data.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
                as? [String: Any])
        #expect(event["op"] as? String == "c")
        #expect((event["after"] as? [String: Any])?["v"] as? String == "a")

        // Stored after the stream opened: delivered on the same connection.
        try postgres.execute("INSERT INTO t VALUES (3, 'c')", database: database)
        #expect(try await first.changes(1).map(\.id) == ["\(store):4"])
        first.close()

        // Written while no client listens; the reconnect picks up exactly after 4.
        try postgres.execute("INSERT INTO t VALUES (4, 'd')", database: database)
        try postgres.execute("INSERT INTO t VALUES (5, 'e')", database: database)
        let second = try SSETestClient(
            base: service.base, path: "/v1/pipelines/\(pipelineID)/events/stream?after=0",
            headers: ["Last-Event-ID": "4"])
        try await second.readHead()
        #expect(second.status == 200)
        var resumed = try await second.changes(2)
        try postgres.execute("INSERT INTO t VALUES (6, 'f')", database: database)
        resumed += try await second.changes(1)
        #expect(resumed.map(\.id) == ["\(store):5", "\(store):6", "\(store):7"])
        let ids = try resumed.map { message -> Int in
            let object = try JSONSerialization.jsonObject(with: Data((message.data ?? "").utf8)) as? [String: Any]
            return ((object?["after"] as? [String: Any])?["id"] as? Int) ?? -1
        }
        #expect(ids == [4, 5, 6])
        second.close()

        // Without the header, `after` is the cursor.
        let third = try SSETestClient(base: service.base, path: "/v1/pipelines/\(pipelineID)/events/stream?after=6")
        try await third.readHead()
        #expect(try await third.changes(1).map(\.id) == ["\(store):7"])
        third.close()

        // The id as sent comes back as Last-Event-ID; a cursor of another store
        // or beyond the end is refused before the stream starts, never an empty stream.
        let fourth = try SSETestClient(
            base: service.base, path: "/v1/pipelines/\(pipelineID)/events/stream",
            headers: ["Last-Event-ID": "\(store):6"])
        try await fourth.readHead()
        #expect(try await fourth.changes(1).map(\.id) == ["\(store):7"])
        fourth.close()
        let otherStore = String(repeating: "0", count: 32)
        let foreign = try SSETestClient(
            base: service.base, path: "/v1/pipelines/\(pipelineID)/events/stream",
            headers: ["Last-Event-ID": "\(otherStore):5"])
        try await foreign.readHead()
        #expect(foreign.status == 409)
        #expect(try await foreign.readToEnd().contains("cursor-other-store"))
        let beyond = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=99&store=\(store)")
        #expect(beyond.status == 409)
        #expect((beyond.body as? [String: Any])?["last_seq"] as? Int == 7)
        #expect(
            try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=2&store=\(otherStore)").status
                == 409)

        // Errors come before the stream, as problem details.
        let invalid = try SSETestClient(
            base: service.base, path: "/v1/pipelines/\(pipelineID)/events/stream", headers: ["Last-Event-ID": "abc"])
        try await invalid.readHead()
        #expect(invalid.status == 422)
        #expect(try await invalid.readToEnd().contains(#""field":"Last-Event-ID""#))
        #expect(try await service.call("GET", "/v1/pipelines/\(pipelineID)/events/stream?after=-1").status == 422)
        #expect(try await service.call("GET", "/v1/pipelines/nope/events/stream").status == 404)
        #expect(try await service.call("POST", "/v1/pipelines/\(pipelineID)/events/stream").status == 405)

        _ = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        await service.stop()
    }

    @Test func streamsNothingButTheRetryHintForAPipelineWithoutEvents() async throws {
        let service = try APIFlowTests.Service()
        let source = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "events",
                "host": "127.0.0.1", "port": 1, "database": "d", "user": "u", "sslmode": "disable",
            ])
        let sourceID = try #require((source.body as? [String: Any])?["id"] as? String)
        #expect(try await service.call("PUT", "/v1/pipelines/idle", json: ["source_id": sourceID]).status == 201)
        let client = try SSETestClient(base: service.base, path: "/v1/pipelines/idle/events/stream")
        try await client.readHead()
        #expect(client.status == 200)
        #expect(try await client.nextMessage()?.retry == "2000")
        // The server keeps the stream open; nothing else arrives in a short while.
        #expect(try await client.nextMessage(timeout: .milliseconds(500)) == nil)
        client.close()
        await service.stop()
    }
}
