// The registered series of one pipeline. Each scrape sets them from a fresh
// status snapshot; when the pipeline is deleted they are unregistered, so it
// disappears from the output instead of lingering with stale values.

import CDC
import Prometheus

/// The collectors of one pipeline in a `PrometheusCollectorRegistry`.
struct PipelineSeries {
    let id: String
    private let registry: PrometheusCollectorRegistry
    private let states: [Gauge]
    private let up, retryAttempt, receivedLSN, flushedLSN, serverLSN, lagBytes, lagSeconds: Gauge
    private var eventsStored, transactionsStored, reconnects: TotalCounter
    /// One counter per `op` code, in `OperationCounts.byCode` order.
    private var eventsByOperation: [TotalCounter]
    private var lastError: (code: String, gauge: Gauge)?
    private var storeBytes: Gauge?
    private var slotRetained: Gauge?
    private var slotSafeWAL: Gauge?
    private var tlsEncrypted: Gauge?
    private var slotStatus: [(walStatus: String, gauge: Gauge)] = []
    private var snapshot: SnapshotSeries
    /// The latest latency histogram, written out by `CommitToDurableFamily`.
    private(set) var commitToDurable = LatencyHistogram()

    /// `wal_status` values of `pg_replication_slots` (PostgreSQL 13+), always listed when a slot is sampled.
    static let walStatuses = ["reserved", "extended", "unreserved", "lost"]

    init(id: String, registry: PrometheusCollectorRegistry) {
        self.id = id
        self.registry = registry
        let pipeline = [("pipeline", id)]
        func gauge(_ series: SeriesName) -> Gauge {
            registry.makeGauge(descriptor: series.descriptor, labels: pipeline)
        }
        func counter(_ series: SeriesName) -> TotalCounter {
            TotalCounter(registry.makeCounter(descriptor: series.descriptor, labels: pipeline))
        }
        states = PipelineState.exposed.map {
            registry.makeGauge(descriptor: SeriesName.state.descriptor, labels: pipeline + [("state", $0.rawValue)])
        }
        up = gauge(.up)
        retryAttempt = gauge(.retryAttempt)
        receivedLSN = gauge(.receivedLSN)
        flushedLSN = gauge(.flushedLSN)
        serverLSN = gauge(.serverLSN)
        lagBytes = gauge(.lagBytes)
        lagSeconds = gauge(.lagSeconds)
        eventsStored = counter(.eventsStored)
        transactionsStored = counter(.transactionsStored)
        reconnects = counter(.reconnects)
        eventsByOperation = OperationCounts().byCode.map { entry in
            TotalCounter(
                registry.makeCounter(
                    descriptor: SeriesName.eventsByOperation.descriptor, labels: pipeline + [("op", entry.op)]))
        }
        snapshot = SnapshotSeries(pipeline: id, registry: registry)
    }

    mutating func update(_ sample: PipelineSample, nowMicroseconds: Int64) {
        let status = sample.status
        for (index, gauge) in states.enumerated() {
            gauge.set(to: index == status.state.exposedIndex ? 1 : 0)
        }
        up.set(to: status.state.isUp ? 1 : 0)
        retryAttempt.set(to: Double(status.retryAttempt))
        // LSNs go out as doubles: exact up to 2^53 bytes (8 PiB) of WAL.
        receivedLSN.set(to: Double(status.receivedLSN.rawValue))
        flushedLSN.set(to: Double(status.reportedFlushLSN.rawValue))
        serverLSN.set(to: Double(status.serverWALEnd.rawValue))
        lagBytes.set(to: Double(status.lagBytes))
        lagSeconds.set(to: status.lagSeconds(nowMicroseconds: nowMicroseconds))
        eventsStored.set(status.eventsStored)
        transactionsStored.set(status.transactionsStored)
        reconnects.set(Int64(max(0, status.sessionsStarted - 1)))
        for (index, entry) in status.eventsByOperation.byCode.enumerated() where index < eventsByOperation.count {
            eventsByOperation[index].set(entry.count)
        }
        snapshot.update(status.snapshot)
        commitToDurable = status.commitToDurable

        setLastError(status.lastError?.code.rawValue)
        storeBytes = optionalGauge(storeBytes, .storeBytes, sample.storeBytes.map(Double.init))
        slotRetained = optionalGauge(slotRetained, .slotRetained, status.slot.map { Double($0.retainedBytes) })
        slotSafeWAL = optionalGauge(slotSafeWAL, .slotSafeWAL, status.slot?.safeWALBytes.map(Double.init))
        setSlotStatus(status.slot?.walStatus)
        tlsEncrypted = optionalGauge(tlsEncrypted, .tlsEncrypted, status.tls.map { $0.encrypted ? 1 : 0 })
    }

    /// Removes every series of this pipeline from the registry.
    func unregister() {
        for gauge in states + [up, retryAttempt, receivedLSN, flushedLSN, serverLSN, lagBytes, lagSeconds] {
            registry.unregisterGauge(gauge)
        }
        for counter in [eventsStored, transactionsStored, reconnects] + eventsByOperation {
            registry.unregisterCounter(counter.counter)
        }
        for gauge in [lastError?.gauge, storeBytes, slotRetained, slotSafeWAL, tlsEncrypted].compactMap({ $0 })
            + slotStatus.map(\.gauge)
        {
            registry.unregisterGauge(gauge)
        }
        snapshot.unregister()
    }

    private mutating func setLastError(_ code: String?) {
        guard lastError?.code != code else { return }
        if let lastError { registry.unregisterGauge(lastError.gauge) }
        lastError = code.map { code in
            let gauge = registry.makeGauge(
                descriptor: SeriesName.lastError.descriptor, labels: [("pipeline", id), ("code", code)])
            gauge.set(to: 1)
            return (code, gauge)
        }
    }

    /// A gauge that exists only while there is a value for it.
    private func optionalGauge(_ existing: Gauge?, _ series: SeriesName, _ value: Double?) -> Gauge? {
        guard let value else {
            if let existing { registry.unregisterGauge(existing) }
            return nil
        }
        let gauge = existing ?? registry.makeGauge(descriptor: series.descriptor, labels: [("pipeline", id)])
        gauge.set(to: value)
        return gauge
    }

    /// One-hot over the known `wal_status` values, plus the current one if a
    /// newer server reports a value not listed.
    private mutating func setSlotStatus(_ walStatus: String?) {
        var wanted: [String] = []
        if let walStatus {
            wanted = Self.walStatuses
            if !wanted.contains(walStatus) { wanted.append(walStatus) }
        }
        guard slotStatus.map(\.walStatus) != wanted else {
            for entry in slotStatus { entry.gauge.set(to: entry.walStatus == walStatus ? 1 : 0) }
            return
        }
        for entry in slotStatus { registry.unregisterGauge(entry.gauge) }
        slotStatus = wanted.map { value in
            let gauge = registry.makeGauge(
                descriptor: SeriesName.slotStatus.descriptor, labels: [("pipeline", id), ("wal_status", value)])
            gauge.set(to: value == walStatus ? 1 : 0)
            return (value, gauge)
        }
    }
}

/// A Prometheus counter that mirrors a running total kept elsewhere.
/// swift-prometheus counters can only be incremented, so it adds the
/// difference since the last scrape; a total that went down (a fresh run)
/// is a counter reset, which Prometheus' `rate()` handles.
struct TotalCounter {
    let counter: Counter
    private var last: Int64 = 0

    init(_ counter: Counter) { self.counter = counter }

    mutating func set(_ total: Int64) {
        if total < last {
            counter.reset()
            last = 0
        }
        if total > last { counter.increment(by: total - last) }
        last = total
    }
}
