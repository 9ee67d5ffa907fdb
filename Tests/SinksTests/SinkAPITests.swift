// Sinks set on the pipeline resource, through a live service and a real
// Postgres: validated with a 422 naming each field, secrets never returned,
// the forwarder started and stopped with the pipeline, its status and
// metrics, and `confirm: delivered` holding the slot until the target has
// the events.

import Foundation
import PostgresTestSupport
import Testing

extension SinkSuites {
    @Suite("Sinks through the API", .serialized)
    struct SinkAPITests {
        static let secret = "a-shared-secret-of-32-bytes-long"

        /// The fields a 422 names.
        private func fields(_ reply: APIService.Reply) -> [String] {
            (reply.object["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
        }

        @Test(.timeLimit(.minutes(5)))
        func invalidSinksAndRetentionAreRefusedNamingTheField() async throws {
            let postgres = try await TestPostgres.shared()
            let service = try APIService()
            let sourceID = try await service.registerSource(postgres, database: "postgres")
            func put(_ extra: [String: Any]) async throws -> APIService.Reply {
                try await service.call(
                    "PUT", "/v1/pipelines/invalid_sinks", json: extra.merging(["source_id": sourceID]) { a, _ in a })
            }
            let hook: [String: Any] = [
                "name": "h", "type": "webhook", "url": "http://127.0.0.1:9/x", "secret": Self.secret,
            ]
            let cases: [([String: Any], String)] = [
                (["sinks": "x"], "sinks"),
                (["sinks": [["name": "a", "type": "ftp"]]], "sinks[0].type"),
                (["sinks": [["name": "a"]]], "sinks[0].type"),
                (["sinks": [["name": "a", "type": "webhook", "url": "http://127.0.0.1:9/x"]]], "sinks[0].secret"),
                (["sinks": [hook.merging(["url": "ftp://x"]) { _, b in b }]], "sinks[0]"),
                (["sinks": [hook.merging(["secret": "short"]) { _, b in b }]], "sinks[0]"),
                (["sinks": [hook, hook]], "sinks[1].name"),
                (["sinks": [hook.merging(["batch_size": "many"]) { _, b in b }]], "sinks[0].batch_size"),
                (["sinks": [hook.merging(["confirm": "maybe"]) { _, b in b }]], "sinks[0].confirm"),
                (["sinks": [hook.merging(["topic": "t"]) { _, b in b }]], "sinks[0].topic"),
                (
                    [
                        "sinks": [
                            [
                                "name": "k", "type": "kafka", "bootstrap_servers": "127.0.0.1:9",
                                "properties": ["acks": "1"],
                            ]
                        ]
                    ], "sinks[0]"
                ),
                (
                    [
                        "sinks": [
                            ["name": "n", "type": "jetstream", "servers": ["nats://127.0.0.1:4222"], "replicas": 2]
                        ]
                    ], "sinks[0]"
                ),
                (["retention": ["max_bytes": 0]], "retention.max_bytes"),
                (["retention": ["max_age_seconds": "1d"]], "retention.max_age_seconds"),
                (["retention": ["max_bytes": 100, "hard_max_bytes": 10]], "retention"),
                (["retention": ["max_age": 1]], "retention.max_age"),
            ]
            for (body, field) in cases {
                let reply = try await put(body)
                #expect(reply.status == 422, "\(body): \(reply.raw)")
                #expect(fields(reply).contains(field), "\(body) names \(field): \(reply.raw)")
            }
            #expect(try await service.call("GET", "/v1/pipelines/invalid_sinks").status == 404, "nothing was saved")

            // Valid: every setting comes back with its effective value, no secret does.
            let kafka: [String: Any] = [
                "name": "k", "type": "kafka", "bootstrap_servers": "127.0.0.1:9",
                "properties": ["sasl.password": "hunter2-kafka", "client.id": "popsink"],
            ]
            let created = try await put([
                "sinks": [hook, kafka], "retention": ["max_age_seconds": 3600, "max_bytes": NSNull()],
            ])
            #expect(created.status == 201, "\(created.raw)")
            for reply in [created, try await service.call("GET", "/v1/pipelines/invalid_sinks")] {
                #expect(!reply.raw.contains(Self.secret) && !reply.raw.contains("hunter2-kafka"), "\(reply.raw)")
                let sinks = reply.object["sinks"] as? [[String: Any]] ?? []
                #expect(sinks.count == 2)
                #expect(sinks.first?["has_secret"] as? Bool == true)
                #expect(sinks.first?["batch_size"] as? Int == 500)
                #expect(sinks.first?["confirm"] as? String == "stored")
                #expect(sinks.last?["secret_properties"] as? [String] == ["sasl.password"])
                #expect((sinks.last?["properties"] as? [String: String]) == ["client.id": "popsink"])
                let retention = reply.object["retention"] as? [String: Any] ?? [:]
                #expect(retention["max_age_seconds"] as? Int == 3600)
                #expect(retention["max_bytes"] is NSNull)
                #expect(retention["hard_max_bytes"] as? Int == 40 << 30, "left out: the default")
            }
            // What a client read back is a valid PUT: the secrets are kept.
            let read = try await service.call("GET", "/v1/pipelines/invalid_sinks")
            var echoed = (read.object["sinks"] as? [[String: Any]] ?? []).map { sink in
                sink.filter { !["has_secret", "secret_properties"].contains($0.key) }
            }
            echoed[0]["timeout_seconds"] = 3
            let again = try await put(["sinks": echoed])
            #expect(again.status == 200, "\(again.raw)")
            #expect((again.object["sinks"] as? [[String: Any]])?.first?["has_secret"] as? Bool == true)
            #expect(
                (again.object["sinks"] as? [[String: Any]])?.last?["secret_properties"] as? [String] == [
                    "sasl.password"
                ])
            let defaults = try await put([:])
            #expect((defaults.object["retention"] as? [String: Any])?["max_bytes"] as? Int == 10 << 30)
            #expect((defaults.object["sinks"] as? [Any])?.isEmpty == true)
            _ = try await service.call("DELETE", "/v1/pipelines/invalid_sinks")
            await service.stop()
        }

        @Test(.timeLimit(.minutes(4)))
        func aWebhookSinkRunsWithItsPipelineAndHoldsTheSlotUntilDelivered() async throws {
            let postgres = try await TestPostgres.shared()
            let database = try postgres.createDatabase()
            try postgres.execute(
                """
                CREATE TABLE t (id int PRIMARY KEY, v text);
                ALTER TABLE t REPLICA IDENTITY FULL;
                CREATE PUBLICATION popsink FOR TABLE t;
                """, database: database)
            let receiver = try WebhookReceiver(secret: Self.secret) { .fail(503) }
            defer { receiver.stop() }
            let service = try APIService()
            do {
                try await deliverThroughTheAPI(service, receiver, postgres, database)
            } catch {
                await service.stop()
                throw error
            }
            await service.stop()
        }

        private func deliverThroughTheAPI(
            _ service: APIService, _ receiver: WebhookReceiver, _ postgres: TestPostgres, _ database: String
        ) async throws {
            let sourceID = try await service.registerSource(postgres, database: database)
            let id = "hooked\(database)"
            let sink: [String: Any] = [
                "name": "hook", "type": "webhook", "url": receiver.url, "secret": Self.secret, "confirm": "delivered",
                "timeout_seconds": 2,
            ]
            let put = try await service.call(
                "PUT", "/v1/pipelines/\(id)",
                json: [
                    "source_id": sourceID, "desired_state": "running", "sinks": [sink],
                    "retention": ["max_age_seconds": 3600, "max_bytes": NSNull()],
                ])
            #expect(put.status == 201, "\(put.raw)")
            // The retention set is the one the worker runs with.
            let policy = service.registry.config(id)?.retention
            #expect(policy?.maxAge == .seconds(3600) && policy?.maxBytes == nil && policy?.hardMaxBytes == 40 << 30)
            let slot = try #require(put.object["slot_name"] as? String)
            let status = "/v1/pipelines/\(id)/status"
            #expect(
                try await service.eventually(60) {
                    try await service.call("GET", status).object["state"] as? String == "streaming"
                })

            try postgres.execute("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 20) g", database: database)
            var page = try await service.call("GET", "/v1/pipelines/\(id)/events?after=0&limit=1&wait=30")
            let first = try #require((page.object["events"] as? [[String: Any]])?.first, "\(page.raw)")
            // The event id is `<commit LSN>:<ordinal>`.
            let commitLSN = try #require((first["id"] as? String)?.split(separator: ":").first.map(String.init))
            #expect(
                try await service.eventually(30) {
                    page = try await service.call("GET", "/v1/pipelines/\(id)/events?after=0&limit=1")
                    return page.object["last_seq"] as? Int == 21
                }, "the table's s event and 20 rows are stored: \(page.raw)")

            // Stored, not delivered: the sink retries, shows its lag, and the
            // slot is not confirmed past the first event it lacks.
            #expect(
                try await service.eventually(30) {
                    let sinks = try await service.call("GET", status).object["sinks"] as? [[String: Any]]
                    return (sinks?.first?["retries"] as? Int ?? 0) >= 1
                })
            let behind = try await service.call("GET", status).object
            let sinkStatus = try #require((behind["sinks"] as? [[String: Any]])?.first, "\(behind)")
            #expect(sinkStatus["lag"] as? Int == 21)
            #expect(sinkStatus["delivered_seq"] as? Int == 0)
            #expect((sinkStatus["errors"] as? [String: Int])?["rejected"] ?? 0 >= 1, "\(sinkStatus)")
            // The sink holds retention as the named consumer `sink.hook`, at 0 until it delivers.
            let holds = (behind["consumers"] as? [[String: Any]])?.first { $0["name"] as? String == "sink.hook" }
            #expect(holds?["acked_seq"] as? Int == 0 && holds?["lag"] as? Int == 21, "\(behind)")
            // Status updates go out on every commit and every 10 s: wait past one.
            try await Task.sleep(for: .seconds(11))
            func confirmedAtMost(_ lsn: String) throws -> Bool {
                try postgres.execute(
                    "SELECT (confirmed_flush_lsn <= '\(lsn)'::pg_lsn)::text AS held FROM pg_replication_slots WHERE slot_name = '\(slot)'",
                    database: database
                ).value("held") == "true"
            }
            #expect(try confirmedAtMost(commitLSN), "the slot keeps the transaction the sink has not delivered")
            // Status shows what Postgres was told (flushed_lsn), not the store's checkpoint (stored_lsn).
            func before(_ a: String, _ b: String) throws -> Bool {
                try postgres.execute(
                    "SELECT ('\(a)'::pg_lsn < '\(b)'::pg_lsn)::text AS before", database: database
                ).value("before") == "true"
            }
            let held = try await service.call("GET", status).object
            let flushedLSN = try #require(held["flushed_lsn"] as? String, "\(held)")
            let storedLSN = try #require(held["stored_lsn"] as? String, "\(held)")
            #expect(try !before(commitLSN, flushedLSN), "flushed_lsn \(flushedLSN) is held at \(commitLSN) at most")
            #expect(try before(commitLSN, storedLSN), "stored_lsn \(storedLSN) is past \(commitLSN)")
            #expect(try confirmedAtMost(flushedLSN), "Postgres was told no more than flushed_lsn")

            let metrics = try await service.call("GET", "/metrics").raw
            #expect(metrics.contains("popsink_sink_lag_events{pipeline=\"\(id)\",sink=\"hook\"} 21"), "\(metrics)")
            #expect(metrics.contains("popsink_sink_retries_total{pipeline=\"\(id)\",sink=\"hook\"}"))
            #expect(metrics.contains("popsink_sink_errors_total{pipeline=\"\(id)\",sink=\"hook\",kind=\"rejected\"}"))
            #expect(metrics.contains("popsink_consumer_lag_events{pipeline=\"\(id)\",consumer=\"sink.hook\"}"))
            // The flushed-LSN gauge is what Postgres was told too, held at the undelivered commit.
            let gauge = "popsink_pipeline_flushed_lsn_bytes{pipeline=\"\(id)\"} "
            let flushedBytes = metrics.split(separator: "\n").first { $0.hasPrefix(gauge) }
                .flatMap { Double($0.dropFirst(gauge.count)) }
            let commitBytes = try postgres.execute(
                "SELECT ('\(commitLSN)'::pg_lsn - '0/0'::pg_lsn)::text AS bytes", database: database
            ).value("bytes").flatMap(Double.init)
            #expect(
                flushedBytes != nil && commitBytes != nil && flushedBytes! <= commitBytes!,
                "flushed gauge \(flushedBytes ?? -1) is held at \(commitBytes ?? -1) at most")

            // The target is back: everything arrives once, in order, and the slot moves past it.
            receiver.setBehaviour { .accept }
            #expect(
                try await service.eventually(60) {
                    let sinks = try await service.call("GET", status).object["sinks"] as? [[String: Any]]
                    return sinks?.first?["delivered_seq"] as? Int == 21 && sinks?.first?["lag"] as? Int == 0
                })
            #expect(try await service.eventually(30) { try !confirmedAtMost(commitLSN) }, "confirmed once delivered")
            #expect(
                try await service.eventually(30) {
                    let lsn = try await service.call("GET", status).object["flushed_lsn"] as? String
                    return try lsn.map { try before(commitLSN, $0) } ?? false
                }, "flushed_lsn moves on once delivered")
            #expect(receiver.events.count == 21)
            #expect(receiver.signatureFailures == 0)
            let delivered = try await service.call("GET", "/metrics").raw
            #expect(delivered.contains("popsink_sink_delivered_events_total{pipeline=\"\(id)\",sink=\"hook\"} 21"))

            // Stopped with its pipeline, at its saved position; started again with it.
            #expect(try await service.call("POST", "/v1/pipelines/\(id)/stop").status == 200)
            let stopped = try #require(
                (try await service.call("GET", status).object["sinks"] as? [[String: Any]])?.first)
            #expect(stopped["state"] as? String == "stopped")
            #expect(stopped["delivered_seq"] as? Int == 21)
            try postgres.execute("INSERT INTO t VALUES (21, 'after')", database: database)
            #expect(try await service.call("POST", "/v1/pipelines/\(id)/start").status == 200)
            #expect(
                try await service.eventually(60) {
                    let sinks = try await service.call("GET", status).object["sinks"] as? [[String: Any]]
                    return sinks?.first?["delivered_seq"] as? Int == 22
                })
            let stored = try await service.call("GET", "/v1/pipelines/\(id)/events?after=0&limit=100")
            let ids = (stored.object["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids.count == 22)
            #expect(receiver.events == ids, "the receiver holds the store, once, in order")

            _ = try await service.call("DELETE", "/v1/pipelines/\(id)?drop_slot=true")
        }
    }
}
