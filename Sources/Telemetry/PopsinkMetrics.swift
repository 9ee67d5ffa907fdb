// The Prometheus exposition behind `GET /metrics` (DESIGN §7): per-pipeline
// series refreshed from status snapshots at scrape time, HTTP request metrics
// recorded as requests finish, all in one registry owned by this object
// rather than a process-wide bootstrap, so tests can make as many as they like.

import CDC
import Prometheus
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Popsink's metrics registry and its text exposition.
public final class PopsinkMetrics: Sendable {
    /// The registry every popsink series lives in. Other code may register its
    /// own series here (directly or through `factory`); names starting with
    /// `popsink_pipeline_`, `popsink_sink_`, `popsink_consumer_` and `popsink_http_` are taken.
    public let registry: PrometheusCollectorRegistry
    /// Per-pipeline series by pipeline id. The lock also serializes scrapes,
    /// so counter deltas are computed against one previous scrape.
    private let pipelines = Mutex<[String: PipelineSeries]>([:])
    /// The request collectors by route, method and status. Looked up here
    /// rather than through the registry on every request: its `make…` calls
    /// validate the name and help text and build the label key each time.
    private let httpCollectors = Mutex<[HTTPLabels: (requests: Counter, duration: DurationHistogram)]>([:])

    private struct HTTPLabels: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    /// Buckets of `popsink_http_request_duration_seconds`: API calls are
    /// expected in milliseconds, long-polls and streams in seconds.
    static let httpBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    static let httpMethods: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
    ]

    public init() {
        registry = PrometheusCollectorRegistry()
    }

    /// A swift-metrics factory writing into this registry, for code that
    /// records through swift-metrics (`Counter(label:dimensions:factory:)`, …).
    public var factory: PrometheusMetricsFactory {
        PrometheusMetricsFactory(registry: registry)
    }

    /// Counts one finished HTTP request and its duration.
    /// - Parameter route: the route template (`/v1/pipelines/{id}`), never the
    ///   raw path, so the number of series stays bounded.
    /// - Parameter method: any other than the methods HTTP defines is counted as
    ///   `other`: it comes from the client, and each value would be a new series.
    public func recordHTTPRequest(route: String, method: String, status: Int, duration: Duration) {
        let method = Self.httpMethods.contains(method) ? method : "other"
        let key = HTTPLabels(route: route, method: method, status: status)
        let collectors = httpCollectors.withLock { cache in
            if let known = cache[key] { return known }
            let labels = [("route", route), ("method", method), ("status", String(status))]
            let made = (
                requests: registry.makeCounter(descriptor: SeriesName.httpRequests.descriptor, labels: labels),
                duration: registry.makeDurationHistogram(
                    descriptor: SeriesName.httpDuration.descriptor, labels: labels, buckets: Self.httpBuckets)
            )
            cache[key] = made
            return made
        }
        collectors.requests.increment()
        collectors.duration.record(duration)
    }

    /// The whole registry in the Prometheus text format (version 0.0.4),
    /// after setting the per-pipeline series from `pipelines`. A pipeline
    /// that was in the previous scrape but not in this one is unregistered.
    /// - Parameter nowMicroseconds: wall-clock time for `lag_seconds`, in Unix microseconds.
    public func render(pipelines samples: [PipelineSample], nowMicroseconds: Int64? = nil) -> [UInt8] {
        let now = nowMicroseconds ?? Self.unixMicroseconds()
        return pipelines.withLock { series in
            var latest: [String: PipelineSample] = [:]
            var order: [String] = []
            for sample in samples {
                if latest.updateValue(sample, forKey: sample.id) == nil { order.append(sample.id) }
            }
            for (id, gone) in series where latest[id] == nil {
                gone.unregister()
                series[id] = nil
            }
            for id in order {
                series[id, default: PipelineSeries(id: id, registry: registry)]
                    .update(latest[id]!, nowMicroseconds: now)
            }

            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            CommitToDurableFamily.emit(order.map { ($0, series[$0]!.commitToDurable) }, into: &buffer)
            FollowerFamilies.emit(order.map { latest[$0]! }, into: &buffer)
            return buffer
        }
    }

    /// The content type of `render`'s output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func unixMicroseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000
    }
}
