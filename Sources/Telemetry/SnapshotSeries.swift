// The snapshot's series of one pipeline: per table, rows and chunks done
// against the estimate and the plan, and how many tables are left. Tables
// come and go between runs (filters change), so their series are registered
// when a table first appears and unregistered when it leaves the status.

import CDC
import Prometheus

/// The snapshot collectors of one pipeline in a `PrometheusCollectorRegistry`.
struct SnapshotSeries {
    private struct Table: Hashable {
        let schema: String
        let table: String
    }

    private struct TableGauges {
        let rows, estimatedRows, chunksDone, chunks: Gauge

        var all: [Gauge] { [rows, estimatedRows, chunksDone, chunks] }
    }

    private let pipeline: String
    private let registry: PrometheusCollectorRegistry
    private let tablesRemaining: Gauge
    private var tables: [Table: TableGauges] = [:]

    init(pipeline: String, registry: PrometheusCollectorRegistry) {
        self.pipeline = pipeline
        self.registry = registry
        tablesRemaining = registry.makeGauge(
            descriptor: SeriesName.snapshotTablesRemaining.descriptor, labels: [("pipeline", pipeline)])
    }

    mutating func update(_ progress: [TableSnapshotProgress]) {
        tablesRemaining.set(to: Double(progress.count { $0.state != .done }))
        var seen: Set<Table> = []
        for entry in progress {
            let key = Table(schema: entry.schema, table: entry.table)
            seen.insert(key)
            let gauges = tables[key] ?? register(key)
            tables[key] = gauges
            gauges.rows.set(to: Double(entry.rowsDone))
            gauges.estimatedRows.set(to: Double(entry.estimatedRows))
            gauges.chunksDone.set(to: Double(entry.chunksDone))
            gauges.chunks.set(to: Double(entry.chunksTotal))
        }
        for (key, gone) in tables where !seen.contains(key) {
            gone.all.forEach(registry.unregisterGauge)
            tables[key] = nil
        }
    }

    /// Removes every snapshot series of this pipeline from the registry.
    func unregister() {
        registry.unregisterGauge(tablesRemaining)
        for gauges in tables.values { gauges.all.forEach(registry.unregisterGauge) }
    }

    private func register(_ key: Table) -> TableGauges {
        let labels = [("pipeline", pipeline), ("schema", key.schema), ("table", key.table)]
        func gauge(_ series: SeriesName) -> Gauge { registry.makeGauge(descriptor: series.descriptor, labels: labels) }
        return TableGauges(
            rows: gauge(.snapshotRows), estimatedRows: gauge(.snapshotRowsEstimated),
            chunksDone: gauge(.snapshotChunksDone), chunks: gauge(.snapshotChunks))
    }
}
