// Delivery reports, counted per batch as librdkafka serves them (the
// `dr_msg_cb`, called from `rd_kafka_poll`/`rd_kafka_flush` on the
// forwarder's thread). Each message's opaque is its batch's last store
// sequence: a count per batch in flight, not a set of every message, so a
// report costs a dictionary update whatever the number in flight.

import CRdKafka
import Synchronization

final class KafkaDeliveries: Sendable {
    struct Tally {
        var delivered = 0
        var failures: [String] = []
        /// Messages produced and not yet reported, by their batch's last store sequence.
        var pending: [Int64: Int] = [:]

        /// Whether every message of the batches ending at or before `sequence` was reported.
        func settled(through sequence: Int64) -> Bool { !pending.keys.contains { $0 <= sequence } }
    }

    let tally = Mutex(Tally())

    func reset() { tally.withLock { $0 = Tally() } }

    /// Counts a message of the batch ending at `batch` as produced, before it is.
    func produced(batch: Int64) { tally.withLock { $0.pending[batch, default: 0] += 1 } }

    /// The C callback: the handle's opaque is the `KafkaDeliveries`.
    static let callback:
        @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
            _, message, opaque in
            guard let message, let opaque else { return }
            let deliveries = Unmanaged<KafkaDeliveries>.fromOpaque(opaque).takeUnretainedValue()
            let error = message.pointee.err
            let batch = Int64(Int(bitPattern: message.pointee._private))
            let failure =
                error == RD_KAFKA_RESP_ERR_NO_ERROR
                ? nil : "\(String(cString: rd_kafka_err2str(error))) (partition \(message.pointee.partition))"
            deliveries.tally.withLock {
                if let left = $0.pending[batch] { $0.pending[batch] = left > 1 ? left - 1 : nil }
                if let failure { $0.failures.append(failure) } else { $0.delivered += 1 }
            }
        }
}
