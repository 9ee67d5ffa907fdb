// GET /v1/pipelines/{id}/events?wait=N over real sockets: a waiting long-poll
// is answered by the pipeline's next commit, not by the end of its wait, and
// one whose client leaves ends then rather than running out its wait.

import Foundation
import PostgresTestSupport
import Testing

@Suite struct LongPollTests {
    typealias Service = APIFlowTests.Service

    /// How many GETs of the events route the HTTP metrics have counted as answered.
    static func answeredLongPolls(_ service: Service) async throws -> Int {
        let metrics = try await service.call("GET", "/metrics").raw
        return metrics.split(separator: "\n").filter {
            $0.hasPrefix("popsink_http_requests_total") && $0.contains(#"route="/v1/pipelines/{id}/events""#)
        }.reduce(0) { $0 + (Int(Double($1.split(separator: " ").last ?? "") ?? 0)) }
    }

    @Test(.timeLimit(.minutes(5)))
    func aLongPollEndsWhenItsClientLeaves() async throws {
        let service = try Service()
        let source = try await service.call(
            "POST", "/v1/sources",
            json: [
                "name": "n", "host": "127.0.0.1", "database": "d", "user": "u",
            ])
        let sourceID = try #require((source.body as? [String: Any])?["id"] as? String)
        #expect(try await service.call("PUT", "/v1/pipelines/idle", json: ["source_id": sourceID]).status == 201)
        #expect(try await Self.answeredLongPolls(service) == 0)

        let client = try SSETestClient(base: service.base, path: "/v1/pipelines/idle/events?wait=60")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await Self.answeredLongPolls(service) == 0, "the long-poll should still be waiting")
        client.close()
        // Its wait has 60 s to go: counted well before, it ended with its connection.
        var answered = 0
        _ = try await eventually(within: 50) {
            answered = try await Self.answeredLongPolls(service)
            return answered > 0
        }
        #expect(answered == 1)
        await service.stop()
    }

    @Test(.timeLimit(.minutes(5)))
    func aWaitingLongPollIsAnsweredByTheNextCommit() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try postgres.databaseWithTableT("id int PRIMARY KEY", replicaIdentityFull: false)
        let service = try Service()
        let id = "p\(database)"
        defer { _ = try? postgres.execute("SELECT pg_drop_replication_slot('popsink_\(id)')") }
        try await service.runningPipeline(id, on: postgres, database: database)
        #expect(try await LifecycleTests.waitForState(service, id, "streaming") == "streaming")

        // What is stored already (the snapshot announces the table with an `s` event).
        let stored = try await service.call("GET", "/v1/pipelines/\(id)/events?after=0")
        let last = try #require((stored.body as? [String: Any])?["last_seq"] as? Int, "\(stored.raw)")
        let started = ContinuousClock.now
        async let page = service.call("GET", "/v1/pipelines/\(id)/events?after=\(last)&wait=60")
        try await Task.sleep(for: .milliseconds(300))
        try postgres.execute("INSERT INTO t VALUES (1)", database: database)
        let answer = try await page
        let events = (answer.body as? [String: Any])?["events"] as? [[String: Any]] ?? []
        #expect(events.map { $0["seq"] as? Int } == [last + 1], "\(answer.raw)")
        // Answered by the commit: long before its 60 s wait would have run out.
        #expect(ContinuousClock.now - started < .seconds(30))
        await service.stop()
    }
}
