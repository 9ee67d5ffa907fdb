// The sinks of one running pipeline: started with it, woken by its commits,
// asked how far it may confirm, and stopped after it. The control plane's
// registry and `run` hold one each.

import EventStore
import PostgresWire

/// Every forwarder of one pipeline.
public final class PipelineSinks: Sendable {
    public let forwarders: [SinkForwarder]

    /// - Parameters:
    ///   - storePath: the pipeline's event store; each sink's position file sits beside it.
    ///   - onParked: told when a sink stops for good (`run` stops with it).
    public init(
        _ configs: [SinkConfig], pipelineID: String, storePath: String,
        onParked: SinkForwarder.ParkedHandler? = nil
    ) {
        forwarders = configs.map { config in
            SinkForwarder(
                config: config, pipelineID: pipelineID, storePath: storePath,
                positionPath: SinkForwarder.positionPath(storePath: storePath, sinkName: config.name),
                onParked: onParked)
        }
    }

    public var isEmpty: Bool { forwarders.isEmpty }

    /// Whether any sink holds the flush position back (`confirm: delivered`).
    public var boundsConfirmation: Bool { forwarders.contains { $0.config.confirm == .delivered } }

    public func start() {
        for forwarder in forwarders { forwarder.start() }
    }

    /// Called after each group commit with the store's highest sequence.
    public func durable(upTo sequence: Int64) {
        for forwarder in forwarders { forwarder.durable(upTo: sequence) }
    }

    /// The highest flush position every `confirm: delivered` sink allows when
    /// the store ends at `storeLast`; nil when none holds it back.
    public func confirmLimit(storeLast: Int64) -> LSN? {
        forwarders.filter { $0.config.confirm == .delivered }
            .compactMap { $0.confirmBound.limit(storeLast: storeLast) }
            .min()
    }

    public var statuses: [SinkStatus] { forwarders.map(\.status) }

    /// Stops every forwarder (each after its batch in flight), all at once;
    /// blocks until their threads have ended.
    public func stop() {
        for forwarder in forwarders { forwarder.requestStop() }
        for forwarder in forwarders { forwarder.stop() }
    }
}
