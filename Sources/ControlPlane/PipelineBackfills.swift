// What a backfill request means for a pipeline, apart from HTTP: a request's
// conditions are checked against the tables and made SQL, then it is stored in the pipeline's
// store before it is accepted, so it is never lost once answered; a cancel
// likewise. The running pipeline takes both from its store at its next poll
// (`BackfillDesk`); a stopped one at its next start. Listing merges the
// backfills the pipeline started with the requests still waiting.

import Blocking
import CDC
import EventStore
import Foundation
import PostgresReplication

struct PipelineBackfills: Sendable {
    let registry: PipelineRegistry
    let dataDirectory: DataDirectory

    enum Requested: Sendable {
        case accepted(Backfill)
        case notRunning
        /// A condition does not fit its table.
        case refused(BackfillCondition.Refusal)
    }

    enum Cancelled: Sendable {
        case accepted(Backfill)
        case unknown
        case finished(Backfill)
    }

    /// Renders the conditions of `backfill` and stores it for the running pipeline `id`.
    func request(_ id: String, _ backfill: Backfill) async throws -> Requested {
        let state = registry.status(id).state
        guard let config = registry.config(id), state.isActive || state == .created else { return .notRunning }
        var backfill = backfill
        if !backfill.predicates.isEmpty {
            let predicates = backfill.predicates
            let (source, timeout) = (config.source, config.receiveTimeout)
            let rendered: Result<Result<[String: String], BackfillCondition.Refusal>, any Error> = await Blocking.run {
                Result { try BackfillCondition.render(predicates, source: source, timeout: timeout) }
            }
            switch try rendered.get() {
            case .success(let conditions): backfill.conditions = conditions
            case .failure(let refusal): return .refused(refusal)
            }
        }
        let path = storePath(id)
        let row = BackfillRequestRow(
            id: backfill.id, body: backfill.encoded, cancel: false, requestedAtMicros: backfill.requestedAt)
        try await Blocking.run { () throws(EventStoreError) in
            let requests = try EventStoreBackfillRequests(path: path)
            defer { requests.close() }
            try requests.add(row)
        }
        return .accepted(backfill)
    }

    /// Stores a cancel of backfill `backfillID` of pipeline `id`, running or not.
    func cancel(_ id: String, _ backfillID: String) async throws -> Cancelled {
        guard var backfill = try await list(id).first(where: { $0.id == backfillID }) else { return .unknown }
        guard !backfill.isFinished else { return .finished(backfill) }
        let path = storePath(id)
        let body = backfill.encoded
        let now = Date().timeIntervalSince1970
        try await Blocking.run { () throws(EventStoreError) in
            let requests = try EventStoreBackfillRequests(path: path)
            defer { requests.close() }
            try requests.cancel(id: backfillID, body: body, requestedAtMicros: Int64(now * 1_000_000))
        }
        backfill.cancelRequested = true
        return .accepted(backfill)
    }

    /// The pipeline's backfills: as the running pipeline shows them (else as
    /// its store has them), then the requests still waiting.
    func list(_ id: String) async throws -> [Backfill] {
        let path = storePath(id)
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let live = registry.config(id) != nil ? registry.status(id).backfills : []
        let stored: Result<(String?, [BackfillRequestRow]), EventStoreError> = await Blocking.run {
            Result { () throws(EventStoreError) in
                // Opened first: it brings a store of an earlier version up to date.
                let requests = try EventStoreBackfillRequests(path: path)
                defer { requests.close() }
                let reader = try EventStoreReader(path: path)
                defer { reader.close() }
                return (try reader.metadata(Backfill.metadataKey), try requests.list())
            }
        }
        let (metadata, rows) = try stored.get()
        var known = Backfill.decode(metadata)
        // The running pipeline's figures are newer than the store's.
        for backfill in live {
            if let index = known.firstIndex(where: { $0.id == backfill.id }) {
                known[index] = backfill
            } else {
                known.append(backfill)
            }
        }
        return Backfill.merge(known, requests: rows.map { (body: $0.body, cancel: $0.cancel) })
    }

    private func storePath(_ id: String) -> String { dataDirectory.eventStorePath(pipelineID: id) }
}
