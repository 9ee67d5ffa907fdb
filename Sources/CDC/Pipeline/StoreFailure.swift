// What a failed event store operation means for a running pipeline. A full
// disk or a lock held too long fixes itself once time passes or someone frees
// space: the pipeline keeps its slot, confirms nothing more to Postgres, and
// retries with backoff; the group that failed was not stored and Postgres
// sends it again. Anything else (a damaged file, a permission) needs a person.

import EventStore

enum StoreFailure {
    static func pipelineError(_ error: EventStoreError) -> PipelineError {
        switch error.kind {
        case .diskFull:
            let needed = error.bytesNeeded.map { " It needs about \(mebibytes($0)) MiB more free space." } ?? ""
            return PipelineError(
                .storeFull,
                "The event store's disk is full: \(error.message) (\(error.path), \(error.operation)).\(needed)",
                retryable: true,
                remediation:
                    "Free space on the data directory's volume (or lower the pipeline's retention); the pipeline retries, confirms nothing to Postgres meanwhile, and resumes without losing events."
            )
        case .busy:
            return PipelineError(
                .storeBusy, "\(error)", retryable: true,
                remediation: "Another connection held the store's lock; make sure only this pipeline writes to it.")
        default:
            return PipelineError(
                .store, "\(error)", retryable: false,
                remediation: "Check the data directory's disk space and permissions.")
        }
    }

    private static func mebibytes(_ bytes: Int64) -> Int64 { (bytes + (1 << 20) - 1) >> 20 }
}
