// The pipeline's side of backfill requests: the API stores each request and
// cancel in the store (`EventStoreBackfillRequests`) before it answers; at
// every poll the session hands them here. A start or the cancel of a
// running backfill takes effect at a marker (`TableSetWatch.backfill`),
// and its request row is deleted in the marker's group together with the
// backfill's new state, so a request is carried out exactly once however
// the pipeline stops. Refusals and the cancel of a backfill that never
// started need no marker.

import EventStore
import PostgresWire

final class BackfillDesk {
    private let store: EventStoreWriter
    private let progress: PipelineProgress

    init(store: EventStoreWriter, progress: PipelineProgress) {
        self.store = store
        self.progress = progress
    }

    /// The change that carries out the stored requests, its marker written;
    /// nil when there is none to make now (nothing asked, or another change
    /// in flight: the requests wait in the store).
    func poll(tableSet: TableSetWatch) throws -> TableSetChange? {
        let rows = try store.backfillRequests()
        guard !rows.isEmpty else { return nil }
        let stored = Backfill.decode(try store.metadata(Backfill.metadataKey))
        var starts: [Backfill] = []
        var cancels: [Backfill] = []
        var settled: [Backfill] = []
        var stale: [String] = []
        for row in rows {
            if let known = stored.first(where: { $0.id == row.id }) {
                // A started backfill's request row is deleted with its start:
                // what is left is a cancel, or a cancel that came too late.
                if row.cancel, known.state == .running { cancels.append(known) } else { stale.append(row.id) }
            } else if var backfill = Backfill.decodeOne(row.body) {
                if row.cancel {
                    backfill.state = .cancelled
                    backfill.cancelRequested = false
                    settled.append(backfill)
                } else {
                    starts.append(backfill)
                }
            } else {
                stale.append(row.id)
            }
        }
        if !settled.isEmpty { try record(settled, removingRequests: true) }
        for id in stale { try store.removeBackfillRequest(id) }
        guard !starts.isEmpty || !cancels.isEmpty,
            let started = try tableSet.backfill(starts, cancels: cancels, store: store)
        else { return nil }
        if !started.refused.isEmpty { try record(started.refused, removingRequests: true) }
        return started.change
    }

    /// The change's marker came through: in its group, the backfills it
    /// starts and stops, and their requests gone.
    func applied(_ change: TableSetChange) throws {
        if change.startsCapture, !change.added.isEmpty || !change.removed.isEmpty {
            let applied = CaptureChange(
                lsn: change.at ?? .zero, started: change.added.map(\.name), stopped: change.removed,
                backfillID: change.backfills.first?.id)
            progress.update { $0.captureChanges = Array(($0.captureChanges + [applied]).suffix(16)) }
        }
        // A cancel stored after the start was taken stays: the next poll stops the backfill.
        try record(change.backfills, removingRequests: true, keepingCancels: true)
        var changed: [Backfill] = []
        if !change.cancels.isEmpty {
            let chunks = try chunkProgress()
            for var backfill in Backfill.decode(try store.metadata(Backfill.metadataKey))
            where change.cancels.contains(backfill.id) {
                backfill.refresh(from: chunks)
                backfill.state = .cancelled
                backfill.cancelRequested = false
                backfill.stoppedAt = change.at
                changed.append(backfill)
            }
        }
        guard !changed.isEmpty else { return }
        try record(changed, removingRequests: true)
    }

    /// The stored backfills' progress from the stored chunk plan; a backfill
    /// that finished is stored as done.
    func refresh() throws {
        let stored = Backfill.decode(try store.metadata(Backfill.metadataKey))
        guard !stored.isEmpty else { return }
        let chunks = try chunkProgress()
        var refreshed = stored
        for index in refreshed.indices { refreshed[index].refresh(from: chunks) }
        if refreshed.map(\.state) != stored.map(\.state) {
            try store.setMetadata(Backfill.metadataKey, Backfill.encode(refreshed))
        }
        publish(refreshed)
    }

    /// Backfills that may still make progress.
    var hasRunning: Bool { progress.status.backfills.contains { $0.state == .running } }

    /// Stores `changed` backfills (by id), optionally deleting their request rows, and shows them in the status.
    private func record(_ changed: [Backfill], removingRequests: Bool, keepingCancels: Bool = false) throws {
        guard !changed.isEmpty else { return }
        var stored = Backfill.decode(try store.metadata(Backfill.metadataKey))
        for backfill in changed {
            if let index = stored.firstIndex(where: { $0.id == backfill.id }) {
                stored[index] = backfill
            } else {
                stored.append(backfill)
            }
        }
        try store.setMetadata(Backfill.metadataKey, Backfill.encode(stored))
        if removingRequests {
            for backfill in changed { try store.removeBackfillRequest(backfill.id, keepingCancel: keepingCancels) }
        }
        publish(stored)
    }

    private func chunkProgress() throws -> [Int64: (done: Bool, rows: Int64)] {
        Dictionary(
            try store.snapshotChunks().map { ($0.id, (done: $0.isDone, rows: $0.rows)) },
            uniquingKeysWith: { a, _ in a })
    }

    private func publish(_ stored: [Backfill]) {
        progress.update { $0.backfills = stored }
    }
}
