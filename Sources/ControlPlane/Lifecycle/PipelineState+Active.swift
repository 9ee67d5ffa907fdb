// Which states mean a worker runs: the one list the registry, the API's
// refusals and readiness read, instead of a list spelled out at each use.

import CDC

extension PipelineState {
    /// A worker thread runs: changing what it reads means stopping it first.
    /// `created` is not active: a pipeline that never ran, or one whose
    /// worker has not published its first state yet.
    public var isActive: Bool {
        switch self {
        case .starting, .snapshotting, .streaming, .retrying, .stopping: true
        case .created, .stopped, .finished, .failed: false
        }
    }
}
