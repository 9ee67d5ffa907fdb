// The state values `popsink_pipeline_state` lists. `PipelineState` is not
// `CaseIterable`, so the list lives here, guarded by an exhaustive switch.

import CDC

extension PipelineState {
    /// Every state, in lifecycle order.
    static let exposed: [PipelineState] = [
        .created, .starting, .snapshotting, .streaming, .retrying, .stopping, .stopped, .finished, .failed,
    ]

    /// Position in `exposed`. The switch has no `default`, so a state added
    /// to CDC fails to compile here until it is listed (a test checks the two agree).
    var exposedIndex: Int {
        switch self {
        case .created: 0
        case .starting: 1
        case .snapshotting: 2
        case .streaming: 3
        case .retrying: 4
        case .stopping: 5
        case .stopped: 6
        case .finished: 7
        case .failed: 8
        }
    }

    /// Whether `popsink_pipeline_up` is 1: the pipeline is moving data.
    var isUp: Bool { self == .snapshotting || self == .streaming }
}
