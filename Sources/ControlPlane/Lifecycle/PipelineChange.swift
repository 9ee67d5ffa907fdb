// What storing a new version of a pipeline's record means for its worker:
// start it, stop it, restart it or leave it. Decided from the record before
// and after and whether a worker runs, with no I/O, so the rules are tested
// without HTTP or Postgres (`PipelineChangeTests`).

/// The command a record change implies.
public enum PipelineChange: Equatable, Sendable {
    case none, start, stop, restart

    /// A change refused while the worker runs.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - record: the record as it will be stored.
    ///   - previous: the stored record, nil when the pipeline is new.
    ///   - active: whether a worker runs for it now.
    public static func of(
        _ record: PipelineRecord, previous: PipelineRecord?, active: Bool
    ) throws(Refusal) -> PipelineChange {
        if let previous, active,
            previous.sourceID != record.sourceID || previous.publication != record.publication
                || previous.slotName != record.slotName || previous.snapshot.enabled != record.snapshot.enabled
        {
            // The slot and the store's checkpoint belong to one source and one
            // publication: switching under a running worker would mix two streams.
            throw Refusal(
                description: "stop pipeline \(record.id) before changing its source, publication, slot or snapshot")
        }
        switch record.desiredState {
        case .stopped:
            return active ? .stop : .none
        case .running:
            // A pipeline that should run and does not (new, stopped, failed,
            // finished) starts with the record as stored now.
            guard active else { return .start }
            // Filters, sinks, retention and messages apply at once. Snapshot settings
            // wait for the next start: restarting a load to apply them would
            // turn it into a slower resume while streaming (`WatermarkSnapshot`).
            let applyNow = previous.map {
                $0.filters != record.filters || $0.sinks != record.sinks || $0.retention != record.retention
                    || $0.messages != record.messages
            }
            return applyNow == true ? .restart : .none
        }
    }
}
