// The `messages` object of a pipeline (which of the user's logical messages
// become `m` events): validated field by field, kept in the state store
// (records saved before it pass none), and applied to a running pipeline.

import Foundation
import PostgresTestSupport
import Testing

@testable import ControlPlane

@Suite struct MessageFilterAPITests {
    typealias Service = APIFlowTests.Service

    static func prefixes(_ body: Any?) -> [String]? {
        ((body as? [String: Any])?["messages"] as? [String: Any])?["prefixes"] as? [String]
    }

    static func fields(_ body: Any?) -> [String] {
        (((body as? [String: Any])?["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
    }

    @Test func setValidatedAndKeptAcrossARestart() async throws {
        var service = try Service()
        let source = try await service.call(
            "POST", "/v1/sources", json: ["name": "n", "host": "h", "database": "d", "user": "u"])
        let sourceID = try #require((source.body as? [String: Any])?["id"] as? String)

        let none = try await service.call("PUT", "/v1/pipelines/quiet", json: ["source_id": sourceID])
        #expect(none.status == 201 && Self.prefixes(none.body) == [], "\(none.raw)")
        let set = try await service.call(
            "PUT", "/v1/pipelines/quiet", json: ["source_id": sourceID, "messages": ["prefixes": ["app.", "audit"]]])
        #expect(set.status == 200 && Self.prefixes(set.body) == ["app.", "audit"], "\(set.raw)")

        for (body, field) in [
            (["prefixes": "app."] as Any, "messages.prefixes"), (["prefix": ["a"]], "messages.prefix"),
            ("app.", "messages"), (["prefixes": ["popsink.ddl"]], "messages.prefixes"),
        ] {
            let refused = try await service.call(
                "PUT", "/v1/pipelines/quiet", json: ["source_id": sourceID, "messages": body])
            #expect(refused.status == 422, "\(refused.raw)")
            #expect(Self.fields(refused.body) == [field], "\(refused.raw)")
        }

        await service.stop(keepingData: true)
        service = try Service(directory: service.directory)
        #expect(Self.prefixes(try await service.call("GET", "/v1/pipelines/quiet").body) == ["app.", "audit"])
        await service.stop()
    }

    @Test func aRecordSavedBeforeMessagesPassesNone() throws {
        let old = Data(
            #"{"id":"p","sourceID":"s","publication":"popsink","slotName":"popsink_p","filters":{"includeSchemas":[],"excludeSchemas":[],"includeTables":[],"excludeTables":[]},"desiredState":"stopped","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}"#
                .utf8)
        let record = try JSONDecoder().decode(PipelineRecord.self, from: old)
        #expect(record.messages == .off)
        var changed = record
        changed.messages.prefixes = ["app."]
        let roundTrip = try JSONDecoder().decode(PipelineRecord.self, from: JSONEncoder().encode(changed))
        #expect(roundTrip.messages.prefixes == ["app."])
    }

    @Test(.timeLimit(.minutes(3)))
    func aRunningPipelinePassesTheMessagesOfItsPrefixes() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.createDatabase()
        try postgres.execute(CaptureSetup.singleTable, database: database)
        let service = try Service()
        let pipelineID = "messages\(database)"
        let sourceID = try await service.registerSource(postgres, database: database)
        let created = try await service.call(
            "PUT", "/v1/pipelines/\(pipelineID)",
            json: ["source_id": sourceID, "desired_state": "running", "messages": ["prefixes": ["app."]]])
        #expect(created.status == 201, "\(created.raw)")
        try await SchemaAPITests.waitForEvents(service, pipelineID, count: 1)
        try postgres.execute(
            """
            SELECT pg_logical_emit_message(false, 'other', 'no');
            SELECT pg_logical_emit_message(false, 'app.ping', 'yes');
            INSERT INTO t VALUES (1);
            """, database: database)
        try await SchemaAPITests.waitForEvents(service, pipelineID, count: 3)
        let page = try await service.call("GET", "/v1/pipelines/\(pipelineID)/events?after=0&limit=10")
        let events = try #require(
            ((page.body as? [String: Any])?["events"] as? [[String: Any]])?.compactMap {
                $0["event"] as? [String: Any]
            },
            "\(page.raw)")
        #expect(events.map { $0["op"] as? String } == ["s", "m", "c"], "\(page.raw)")
        #expect((events[1]["message"] as? [String: Any])?["content"] as? String == "yes")
        _ = try await service.call("DELETE", "/v1/pipelines/\(pipelineID)?drop_slot=true")
        await service.stop()
    }
}

/// A table `t` with full identity in publication `popsink`.
enum CaptureSetup {
    static let singleTable = """
        CREATE TABLE t (id int PRIMARY KEY);
        ALTER TABLE t REPLICA IDENTITY FULL;
        CREATE PUBLICATION popsink FOR TABLE t;
        """
}
