// The `capture_change` of the `PUT …/filters` answer: new filters restart a
// running pipeline, whose first session compares the captured table set
// with the stored one and, when they differ, writes a marker. The answer
// waits (a bounded time) for that marker to come through, so it can give
// the cut-off LSN of the tables that stop matching and the backfill of
// those that start.

import CDC
import PostgresWire

enum CaptureChangeWait {
    /// The first capture change of the pipeline's new run; nil when it does
    /// not run, the set stayed the same, or the marker did not come within `timeout`.
    static func first(_ registry: PipelineRegistry, _ id: String, timeout: Duration = .seconds(5)) async
        -> CaptureChange?
    {
        guard registry.config(id) != nil else { return nil }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let status = registry.status(id)
            if let change = status.captureChanges.first { return change }
            // A pipeline retrying its connection will not get there soon.
            if status.tableSetCheck == .unchanged || status.state == .retrying
                || !(status.state.isActive || status.state == .created)
            {
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    static func json(_ change: CaptureChange) -> JSON {
        .object([
            ("lsn", .string(change.lsn.description)), ("started", .array(change.started.map { .string($0) })),
            ("stopped", .array(change.stopped.map { .string($0) })),
            ("backfill_id", change.backfillID.map { .string($0) } ?? .null),
        ])
    }
}

extension JSON {
    /// This object with one more member.
    func adding(_ key: String, _ value: JSON) -> JSON {
        guard case .object(let members) = self else { return self }
        return .object(members + [(key, value)])
    }
}
