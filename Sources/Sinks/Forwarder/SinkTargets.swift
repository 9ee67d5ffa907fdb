// The target a sink's settings describe.

/// Builds targets from settings.
public enum SinkTargets {
    public static func make(_ config: SinkConfig, pipelineID: String) throws(SinkError) -> any SinkTarget {
        switch config.target {
        case .jetstream(let settings):
            JetStreamTarget(
                settings: settings, pipelineID: pipelineID,
                maxInFlight: config.batchSize * SinkForwarder.batchesInFlight(batchSize: config.batchSize))
        case .kafka(let settings):
            KafkaTarget(settings: settings, pipelineID: pipelineID)
        case .webhook(let settings):
            try WebhookTarget(settings: settings, sinkName: config.name, pipelineID: pipelineID)
        }
    }
}
