// The state store's records in memory. The API reads a pipeline record on
// nearly every request (status is polled by dashboards and orchestrators), and
// a read through SQLite costs a hop to GRDB's queue and back, which under a
// busy CPU is most of a status request's latency (bench/api). Records are few
// and small, so the whole set lives here; the store is still the truth and
// updates this copy only once a write has committed.

import Synchronization

/// Sources and pipelines by id, readable from any thread.
final class RecordCache: Sendable {
    private struct Records {
        var sources: [String: SourceRecord] = [:]
        var pipelines: [String: PipelineRecord] = [:]
    }

    private let records = Mutex(Records())

    init(sources: [SourceRecord], pipelines: [PipelineRecord]) {
        records.withLock { records in
            for source in sources { records.sources[source.id] = source }
            for pipeline in pipelines { records.pipelines[pipeline.id] = pipeline }
        }
    }

    /// Every source, ordered by id as the store lists them.
    var sources: [SourceRecord] { records.withLock { $0.sources.values.sorted { $0.id < $1.id } } }
    func source(id: String) -> SourceRecord? { records.withLock { $0.sources[id] } }
    func put(_ source: SourceRecord) { records.withLock { $0.sources[source.id] = source } }
    func removeSource(id: String) { records.withLock { _ = $0.sources.removeValue(forKey: id) } }

    /// Every pipeline, ordered by id as the store lists them.
    var pipelines: [PipelineRecord] { records.withLock { $0.pipelines.values.sorted { $0.id < $1.id } } }
    func pipeline(id: String) -> PipelineRecord? { records.withLock { $0.pipelines[id] } }
    func put(_ pipeline: PipelineRecord) { records.withLock { $0.pipelines[pipeline.id] = pipeline } }
    func removePipeline(id: String) { records.withLock { _ = $0.pipelines.removeValue(forKey: id) } }
}
