// What the control plane keeps about sources and pipelines, behind a narrow
// protocol so a Postgres-backed store with leases (DESIGN §6) is an
// addition, not a rewrite.

/// Durable storage of sources and pipelines.
public protocol StateStore: Sendable {
    func sources() async throws -> [SourceRecord]
    func source(id: String) async throws -> SourceRecord?
    func save(_ source: SourceRecord) async throws
    /// Removes a source; false when it did not exist.
    func deleteSource(id: String) async throws -> Bool

    func pipelines() async throws -> [PipelineRecord]
    func pipeline(id: String) async throws -> PipelineRecord?
    func save(_ pipeline: PipelineRecord) async throws
    func deletePipeline(id: String) async throws -> Bool
}
