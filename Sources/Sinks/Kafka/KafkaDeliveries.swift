// Delivery reports of one batch, counted as librdkafka serves them (the
// `dr_msg_cb`, called from `rd_kafka_poll`/`rd_kafka_flush` on the
// forwarder's thread).

import CRdKafka
import Synchronization

final class KafkaDeliveries: Sendable {
    struct Tally {
        var delivered = 0
        var failures: [String] = []
        /// Store sequences produced and not yet reported (each message's opaque).
        var pending: Set<Int64> = []
    }

    let tally = Mutex(Tally())

    func reset() { tally.withLock { $0 = Tally() } }

    /// The C callback: the handle's opaque is the `KafkaDeliveries`.
    static let callback:
        @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
            _, message, opaque in
            guard let message, let opaque else { return }
            let deliveries = Unmanaged<KafkaDeliveries>.fromOpaque(opaque).takeUnretainedValue()
            let error = message.pointee.err
            let sequence = Int64(Int(bitPattern: message.pointee._private))
            deliveries.tally.withLock { _ = $0.pending.remove(sequence) }
            if error == RD_KAFKA_RESP_ERR_NO_ERROR {
                deliveries.tally.withLock { $0.delivered += 1 }
            } else {
                let text = String(cString: rd_kafka_err2str(error))
                deliveries.tally.withLock { $0.failures.append("\(text) (partition \(message.pointee.partition))") }
            }
        }
}
