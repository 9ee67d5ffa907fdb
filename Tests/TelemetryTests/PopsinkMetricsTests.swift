// `/metrics` as a scraper sees it: render, parse strictly, check series,
// types and values.

import CDC
import Telemetry
import Testing

@Suite struct PopsinkMetricsTests {
    static let now: Int64 = 1_790_000_000_000_000
    static let states = [
        "created", "starting", "snapshotting", "streaming", "retrying", "stopping", "stopped", "finished", "failed",
    ]
    static let types: [String: String] = [
        "popsink_pipeline_state": "gauge",
        "popsink_pipeline_up": "gauge",
        "popsink_pipeline_retry_attempt": "gauge",
        "popsink_pipeline_events_stored_total": "counter",
        "popsink_pipeline_events_total": "counter",
        "popsink_pipeline_transactions_stored_total": "counter",
        "popsink_pipeline_reconnects_total": "counter",
        "popsink_pipeline_received_lsn_bytes": "gauge",
        "popsink_pipeline_flushed_lsn_bytes": "gauge",
        "popsink_pipeline_server_lsn_bytes": "gauge",
        "popsink_pipeline_lag_bytes": "gauge",
        "popsink_pipeline_lag_seconds": "gauge",
        "popsink_pipeline_store_bytes": "gauge",
        "popsink_pipeline_slot_wal_retained_bytes": "gauge",
        "popsink_pipeline_slot_wal_status": "gauge",
        "popsink_pipeline_slot_safe_wal_bytes": "gauge",
        "popsink_pipeline_snapshot_tables_remaining": "gauge",
        "popsink_pipeline_snapshot_rows": "gauge",
        "popsink_pipeline_snapshot_rows_estimated": "gauge",
        "popsink_pipeline_snapshot_chunks_done": "gauge",
        "popsink_pipeline_snapshot_chunks": "gauge",
        "popsink_pipeline_commit_to_durable_seconds": "histogram",
    ]

    func scrape(_ metrics: PopsinkMetrics, _ samples: [PipelineSample]) throws -> PrometheusText {
        let text = try PrometheusText(metrics.render(pipelines: samples, nowMicroseconds: Self.now))
        try checkHistograms(text)
        return text
    }

    @Test func everyDocumentedSeriesHasItsTypeHelpAndValue() throws {
        let text = try scrape(PopsinkMetrics(), [Fixtures.streaming(nowMicroseconds: Self.now)])
        for (name, type) in Self.types {
            #expect(text[name]?.type == type, "\(name)")
            #expect(text[name]?.help?.isEmpty == false, "\(name)")
        }
        #expect(text["popsink_pipeline_last_error"] == nil)
        #expect(Set(text.order) == Set(Self.types.keys))

        let orders = ["pipeline": "orders"]
        #expect(text.value("popsink_pipeline_state", ["pipeline": "orders", "state": "streaming"]) == 1)
        #expect(text.value("popsink_pipeline_up", orders) == 1)
        #expect(text.value("popsink_pipeline_retry_attempt", orders) == 0)
        #expect(text.value("popsink_pipeline_events_stored_total", orders) == 1234)
        #expect(text.value("popsink_pipeline_transactions_stored_total", orders) == 56)
        #expect(text.value("popsink_pipeline_reconnects_total", orders) == 2)
        #expect(text.value("popsink_pipeline_received_lsn_bytes", orders) == 0x1_0000_2000)
        #expect(text.value("popsink_pipeline_flushed_lsn_bytes", orders) == 0x1_0000_1000)
        #expect(text.value("popsink_pipeline_server_lsn_bytes", orders) == 0x1_0000_3000)
        #expect(text.value("popsink_pipeline_lag_bytes", orders) == 0x2000)
        #expect(text.value("popsink_pipeline_lag_seconds", orders) == 2.5)
        #expect(text.value("popsink_pipeline_store_bytes", orders) == 8192)
        #expect(text.value("popsink_pipeline_slot_wal_retained_bytes", orders) == 65536)
        let walStatus = text.samples("popsink_pipeline_slot_wal_status", orders)
        #expect(Set(walStatus.map { $0.labels["wal_status"] }) == ["reserved", "extended", "unreserved", "lost"])
        #expect(walStatus.filter { $0.value == 1 }.map { $0.labels["wal_status"] } == ["extended"])
        #expect(text.value("popsink_pipeline_slot_safe_wal_bytes", orders) == Double(1 << 30))
    }

    @Test func eventsAreCountedByOperation() throws {
        let metrics = PopsinkMetrics()
        var sample = Fixtures.streaming(nowMicroseconds: Self.now)
        var text = try scrape(metrics, [sample])
        let byOp = text.samples("popsink_pipeline_events_total", ["pipeline": "orders"])
        #expect(
            Dictionary(uniqueKeysWithValues: byOp.map { ($0.labels["op"]!, $0.value) })
                == ["c": 1000, "u": 200, "d": 30, "t": 4, "r": 0, "s": 0, "m": 0])
        sample.status.eventsByOperation.reads = 5700
        sample.status.eventsByOperation.inserts = 1001
        text = try scrape(metrics, [sample])
        #expect(text.value("popsink_pipeline_events_total", ["pipeline": "orders", "op": "r"]) == 5700)
        #expect(text.value("popsink_pipeline_events_total", ["pipeline": "orders", "op": "c"]) == 1001)
    }

    @Test func snapshotProgressIsPerTableAndTablesLeaveWithTheLoad() throws {
        let metrics = PopsinkMetrics()
        var sample = Fixtures.streaming(nowMicroseconds: Self.now)
        var text = try scrape(metrics, [sample])
        let lines = ["pipeline": "orders", "schema": "public", "table": "lines"]
        #expect(text.value("popsink_pipeline_snapshot_rows", lines) == 700)
        #expect(text.value("popsink_pipeline_snapshot_rows_estimated", lines) == 20000)
        #expect(text.value("popsink_pipeline_snapshot_chunks_done", lines) == 1)
        #expect(text.value("popsink_pipeline_snapshot_chunks", lines) == 20)
        #expect(text.samples("popsink_pipeline_snapshot_rows").count == 3)
        #expect(text.value("popsink_pipeline_snapshot_tables_remaining", ["pipeline": "orders"]) == 2)

        // A run with another filter loads other tables: the old ones' series go.
        sample.status.snapshot = [
            TableSnapshotProgress(schema: "public", table: "lines", state: .done, rowsDone: 20000)
        ]
        text = try scrape(metrics, [sample])
        #expect(text.samples("popsink_pipeline_snapshot_rows").map { $0.labels["table"] } == ["lines"])
        #expect(text.value("popsink_pipeline_snapshot_rows", lines) == 20000)
        #expect(text.value("popsink_pipeline_snapshot_tables_remaining", ["pipeline": "orders"]) == 0)

        sample.status.snapshot = []
        text = try scrape(metrics, [sample])
        #expect(text["popsink_pipeline_snapshot_rows"] == nil)
        #expect(text.value("popsink_pipeline_snapshot_tables_remaining", ["pipeline": "orders"]) == 0)
    }

    @Test func commitToDurableIsACumulativeHistogramInSeconds() throws {
        let text = try scrape(PopsinkMetrics(), [Fixtures.streaming(nowMicroseconds: Self.now)])
        let name = "popsink_pipeline_commit_to_durable_seconds"
        let buckets = text.samples("\(name)_bucket", ["pipeline": "orders"])
        // Observed 0.5, 1, 3, 3, 40, 40, 40, 900 and 45 000 ms.
        let expected: [(String, Double)] = [
            ("0.001", 2), ("0.002", 2), ("0.005", 4), ("0.01", 4), ("0.02", 4), ("0.05", 7), ("0.1", 7),
            ("0.2", 7), ("0.5", 7), ("1.0", 8), ("2.0", 8), ("5.0", 8), ("10.0", 8), ("30.0", 8), ("+Inf", 9),
        ]
        #expect(buckets.map { $0.labels["le"]! } == expected.map(\.0))
        #expect(buckets.map(\.value) == expected.map(\.1))
        #expect(text.value("\(name)_count", ["pipeline": "orders"]) == 9)
        let sum = try #require(text.value("\(name)_sum", ["pipeline": "orders"]))
        #expect(abs(sum - 46.0275) < 1e-9)
    }

    @Test func emptyHistogramStillListsEveryBucket() throws {
        let text = try scrape(PopsinkMetrics(), [Fixtures.failed(id: "idle")])
        let buckets = text.samples("popsink_pipeline_commit_to_durable_seconds_bucket", ["pipeline": "idle"])
        #expect(buckets.count == LatencyHistogram.bucketBounds.count + 1)
        #expect(buckets.allSatisfy { $0.value == 0 })
    }

    @Test func weirdPipelineIdIsEscapedAndRoundTrips() throws {
        let id = "we\"ird\\id\nline {x=\"y\"},le=\"+Inf\" é"
        let metrics = PopsinkMetrics()
        let text = try scrape(metrics, [Fixtures.streaming(id: id, nowMicroseconds: Self.now)])
        #expect(text.value("popsink_pipeline_events_stored_total", ["pipeline": id]) == 1234)
        #expect(text.value("popsink_pipeline_state", ["pipeline": id, "state": "streaming"]) == 1)
        #expect(text.value("popsink_pipeline_commit_to_durable_seconds_count", ["pipeline": id]) == 9)
        #expect(text.value("popsink_pipeline_commit_to_durable_seconds_bucket", ["pipeline": id, "le": "+Inf"]) == 9)
        let bytes = metrics.render(pipelines: [Fixtures.failed(id: id)], nowMicroseconds: Self.now)
        let raw = String(decoding: bytes, as: UTF8.self)
        #expect(raw.contains(#"pipeline="we\"ird\\id\nline {x=\"y\"},le=\"+Inf\" é""#))
        #expect(!raw.contains("\nline {"))
    }

    @Test(arguments: Self.states)
    func stateIsOneHotOverEveryState(_ state: String) throws {
        var sample = Fixtures.failed(id: "p")
        sample.status.state = try #require(PipelineState(rawValue: state))
        let text = try scrape(PopsinkMetrics(), [sample])
        let series = text.samples("popsink_pipeline_state", ["pipeline": "p"])
        #expect(series.map { $0.labels["state"]! }.sorted() == Self.states.sorted())
        #expect(series.filter { $0.value == 1 }.map { $0.labels["state"] } == [state])
        #expect(series.filter { $0.value != 1 }.allSatisfy { $0.value == 0 })
        let up: Double = state == "streaming" || state == "snapshotting" ? 1 : 0
        #expect(text.value("popsink_pipeline_up", ["pipeline": "p"]) == up)
    }

    @Test func lastErrorAppearsWithItsCodeAndGoesWhenCleared() throws {
        let metrics = PopsinkMetrics()
        var sample = Fixtures.failed(id: "p")
        var text = try scrape(metrics, [sample])
        #expect(text["popsink_pipeline_last_error"]?.type == "gauge")
        #expect(text.value("popsink_pipeline_last_error", ["pipeline": "p", "code": "slot_missing"]) == 1)
        #expect(text.value("popsink_pipeline_up", ["pipeline": "p"]) == 0)
        #expect(text["popsink_pipeline_store_bytes"] == nil)
        #expect(text["popsink_pipeline_slot_wal_status"] == nil)

        sample.status.lastError = PipelineError(.connectionLost, "server closed the connection", retryable: true)
        text = try scrape(metrics, [sample])
        #expect(text.samples("popsink_pipeline_last_error").map { $0.labels["code"] } == ["connection_lost"])

        sample.status.lastError = nil
        sample.status.state = .streaming
        text = try scrape(metrics, [sample])
        #expect(text["popsink_pipeline_last_error"] == nil)
    }

    @Test func slotAndStoreSeriesFollowTheSample() throws {
        let metrics = PopsinkMetrics()
        var sample = Fixtures.streaming(nowMicroseconds: Self.now)
        sample.status.slot = SlotHealth(walStatus: "unreserved", retainedBytes: 1, safeWALBytes: nil)
        var text = try scrape(metrics, [sample])
        let current = text.samples("popsink_pipeline_slot_wal_status").filter { $0.value == 1 }
        #expect(current.map { $0.labels["wal_status"] } == ["unreserved"])
        #expect(text["popsink_pipeline_slot_safe_wal_bytes"] == nil)  // unlimited max_slot_wal_keep_size

        sample.status.slot = SlotHealth(walStatus: "future_status", retainedBytes: 2, safeWALBytes: 3)
        text = try scrape(metrics, [sample])
        #expect(text.samples("popsink_pipeline_slot_wal_status").count == 5)
        #expect(text.value("popsink_pipeline_slot_wal_status", ["wal_status": "future_status"]) == 1)
        #expect(text.value("popsink_pipeline_slot_wal_status", ["wal_status": "unreserved"]) == 0)

        sample.status.slot = nil
        sample.storeBytes = nil
        text = try scrape(metrics, [sample])
        #expect(text["popsink_pipeline_slot_wal_status"] == nil)
        #expect(text["popsink_pipeline_slot_wal_retained_bytes"] == nil)
        #expect(text["popsink_pipeline_store_bytes"] == nil)
    }

    @Test func deletedPipelineDisappears() throws {
        let metrics = PopsinkMetrics()
        let a = Fixtures.streaming(id: "a", nowMicroseconds: Self.now)
        let b = Fixtures.failed(id: "b")
        var text = try scrape(metrics, [a, b])
        #expect(text.value("popsink_pipeline_events_stored_total", ["pipeline": "a"]) == 1234)

        text = try scrape(metrics, [b])
        let pipelines = Set(text.families.values.flatMap(\.samples).compactMap { $0.labels["pipeline"] })
        #expect(pipelines == ["b"])
        #expect(text["popsink_pipeline_slot_wal_status"] == nil)  // only `a` had a slot

        text = try scrape(metrics, [])
        #expect(text.families.isEmpty)

        // Coming back starts its counters afresh.
        text = try scrape(metrics, [a])
        #expect(text.value("popsink_pipeline_events_stored_total", ["pipeline": "a"]) == 1234)
    }

    @Test func countersFollowTheTotalsAndResetWhenTheyFall() throws {
        let metrics = PopsinkMetrics()
        var sample = Fixtures.streaming(nowMicroseconds: Self.now)
        _ = try scrape(metrics, [sample])
        sample.status.eventsStored = 2000
        var text = try scrape(metrics, [sample])
        #expect(text.value("popsink_pipeline_events_stored_total", ["pipeline": "orders"]) == 2000)
        text = try scrape(metrics, [sample])
        #expect(text.value("popsink_pipeline_events_stored_total", ["pipeline": "orders"]) == 2000)

        sample.status.eventsStored = 7
        sample.status.sessionsStarted = 0
        text = try scrape(metrics, [sample])
        #expect(text.value("popsink_pipeline_events_stored_total", ["pipeline": "orders"]) == 7)
        #expect(text.value("popsink_pipeline_reconnects_total", ["pipeline": "orders"]) == 0)
    }

    @Test func lagSecondsIsZeroWhenCaughtUp() throws {
        var sample = Fixtures.streaming(nowMicroseconds: Self.now)
        sample.status.flushedLSN = sample.status.serverWALEnd
        let text = try scrape(PopsinkMetrics(), [sample])
        #expect(text.value("popsink_pipeline_lag_seconds", ["pipeline": "orders"]) == 0)
        #expect(text.value("popsink_pipeline_lag_bytes", ["pipeline": "orders"]) == 0)
    }

    @Test func httpRequestsAreCountedPerRouteMethodAndStatus() throws {
        let metrics = PopsinkMetrics()
        metrics.recordHTTPRequest(route: "/v1/pipelines", method: "GET", status: 200, duration: .milliseconds(3))
        metrics.recordHTTPRequest(route: "/v1/pipelines", method: "GET", status: 200, duration: .milliseconds(30))
        metrics.recordHTTPRequest(route: "/v1/pipelines/{id}", method: "GET", status: 404, duration: .microseconds(500))
        metrics.recordHTTPRequest(route: "/v1/pipelines", method: "POST", status: 201, duration: .seconds(2))
        // Methods come from clients: unknown ones share one label value.
        metrics.recordHTTPRequest(route: "/healthz", method: "BREW", status: 405, duration: .milliseconds(1))
        metrics.recordHTTPRequest(route: "/healthz", method: "WHEN", status: 405, duration: .milliseconds(1))
        let text = try scrape(metrics, [])
        #expect(text["popsink_http_requests_total"]?.type == "counter")
        #expect(text["popsink_http_request_duration_seconds"]?.type == "histogram")

        let requests = "popsink_http_requests_total"
        #expect(text.samples(requests).count == 4)
        #expect(text.value(requests, ["route": "/healthz", "method": "other", "status": "405"]) == 2)
        #expect(text.value(requests, ["route": "/v1/pipelines", "method": "GET", "status": "200"]) == 2)
        #expect(text.value(requests, ["route": "/v1/pipelines/{id}", "method": "GET", "status": "404"]) == 1)
        #expect(text.value(requests, ["route": "/v1/pipelines", "method": "POST", "status": "201"]) == 1)

        let duration = "popsink_http_request_duration_seconds"
        let get200 = ["route": "/v1/pipelines", "method": "GET", "status": "200"]
        #expect(text.value("\(duration)_count", get200) == 2)
        #expect(text.value("\(duration)_sum", get200) == 0.033)
        #expect(text.value("\(duration)_bucket", get200.merging(["le": "0.005"]) { $1 }) == 1)
        #expect(text.value("\(duration)_bucket", get200.merging(["le": "0.05"]) { $1 }) == 2)
    }

    @Test func registriesAreIndependent() throws {
        let one = PopsinkMetrics()
        let two = PopsinkMetrics()
        one.recordHTTPRequest(route: "/healthz", method: "GET", status: 200, duration: .milliseconds(1))
        _ = try scrape(one, [Fixtures.failed(id: "p")])
        #expect(try scrape(two, []).families.isEmpty)
    }

    /// Every histogram: per series, buckets in increasing `le`, cumulative,
    /// ending in `+Inf` equal to `_count`, with a `_sum`.
    func checkHistograms(_ text: PrometheusText) throws {
        for family in text.families.values where family.type == "histogram" {
            var groups: [[String: String]: [(le: Double, value: Double)]] = [:]
            for sample in family.samples where sample.name == family.name + "_bucket" {
                var labels = sample.labels
                let le = try #require(labels.removeValue(forKey: "le").flatMap { PrometheusText.parseValue($0[...]) })
                groups[labels, default: []].append((le, sample.value))
            }
            #expect(!groups.isEmpty, "\(family.name) has no buckets")
            for (labels, buckets) in groups {
                #expect(buckets.map(\.le) == buckets.map(\.le).sorted(), "\(family.name) \(labels)")
                let cumulative = zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value }
                #expect(cumulative, "\(family.name) \(labels)")
                #expect(buckets.last?.le == .infinity, "\(family.name) \(labels)")
                let count = text.samples(family.name + "_count").first { $0.labels == labels }
                #expect(count != nil && buckets.last?.value == count?.value, "\(family.name) \(labels)")
                #expect(text.samples(family.name + "_sum").contains { $0.labels == labels }, "\(family.name) \(labels)")
            }
        }
    }
}
