// Who follows a pipeline's store and how far behind: its named consumers
// (from the store) and its sinks' saved positions (their files), read
// together off the cooperative pool for the status route and `/metrics`,
// whether or not the pipeline runs.

import Blocking
import EventStore
import Sinks

/// The consumers and sink positions of one store at one moment.
struct StoreFollowers: Sendable {
    var lastSequence: Int64 = 0
    var consumers: [ConsumerPosition] = []
    /// Saved positions by sink name; a sink that never saved one is absent.
    var sinkPositions: [String: Int64] = [:]

    /// Empty when the store does not exist yet or cannot be read.
    static func read(storePath: String, sinks: [SinkConfig]) async -> StoreFollowers {
        await Blocking.run {
            var followers = StoreFollowers()
            if let reader = try? EventStoreReader.openIfCreated(path: storePath) {
                defer { reader.close() }
                followers.lastSequence = (try? reader.lastSequence()) ?? 0
                followers.consumers = (try? reader.consumers()) ?? []
            }
            for sink in sinks {
                let file = SinkPositionFile(
                    path: SinkForwarder.positionPath(storePath: storePath, sinkName: sink.name))
                if let position = try? file.load() { followers.sinkPositions[sink.name] = position.sequence }
            }
            return followers
        }
    }

    /// Each of `sinks` as it stands: its live status when its forwarder runs,
    /// else `stopped` at its saved position; the backlog against the store's last sequence.
    func sinkStatuses(_ sinks: [SinkConfig], live: [SinkStatus]) -> [SinkStatus] {
        sinks.map { sink in
            var status: SinkStatus
            if let running = live.first(where: { $0.name == sink.name }) {
                status = running
            } else {
                status = SinkStatus(name: sink.name, type: sink.type)
                status.state = .stopped
                status.deliveredSequence = sinkPositions[sink.name] ?? 0
            }
            status.storeSequence = max(status.storeSequence, lastSequence)
            return status
        }
    }
}
