// The errors librdkafka reports about a client as a whole (broker down,
// authentication failed), collected for the sink check: a metadata request
// that times out says only that, the error callback says why.

import CRdKafka
import Synchronization

final class KafkaClientErrors: Sendable {
    let reported = Mutex<[String]>([])

    static let callback:
        @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void =
            { _, code, reason, opaque in
                guard let opaque else { return }
                let errors = Unmanaged<KafkaClientErrors>.fromOpaque(opaque).takeUnretainedValue()
                let name = String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code)))
                let text = reason.map { String(cString: $0) } ?? ""
                errors.reported.withLock { if $0.count < 20 { $0.append("\(name): \(text)") } }
            }
}
