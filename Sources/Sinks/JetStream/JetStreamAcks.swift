// Publish acknowledgements of one batch, counted as libnats's thread reports
// them (the AckHandler of `jsOptions.PublishAsync`).

import CNATS
import Foundation
import Synchronization

final class JetStreamAcks: Sendable {
    struct Tally {
        var acknowledged = 0
        var highestSequence: UInt64 = 0
        var duplicates = 0
        var failures: [String] = []
    }

    let tally = Mutex(Tally())
    /// Signalled on every acknowledgement or failure, for a pipelined wait.
    private let arrived = NSCondition()

    func reset() { tally.withLock { $0 = Tally() } }

    /// Waits until `done` holds for the tally, or `deadline`; returns the tally then.
    func wait(until deadline: Date, for done: (Tally) -> Bool) -> Tally {
        arrived.lock()
        defer { arrived.unlock() }
        while true {
            let now = tally.withLock { $0 }
            if done(now) || !arrived.wait(until: deadline) { return tally.withLock { $0 } }
        }
    }

    private func signal() {
        arrived.lock()
        arrived.broadcast()
        arrived.unlock()
    }

    /// The C callback: `closure` is the `JetStreamAcks` the context was made with.
    static let handler: jsPubAckHandler = { _, message, ack, failure, closure in
        guard let closure else { return }
        let acks = Unmanaged<JetStreamAcks>.fromOpaque(closure).takeUnretainedValue()
        if let ack {
            let sequence = ack.pointee.Sequence
            let duplicate = ack.pointee.Duplicate
            acks.tally.withLock {
                $0.acknowledged += 1
                $0.highestSequence = max($0.highestSequence, sequence)
                if duplicate { $0.duplicates += 1 }
            }
        } else if let failure {
            let status = String(cString: natsStatus_GetText(failure.pointee.Err))
            let text = failure.pointee.ErrText.map { String(cString: $0) } ?? ""
            let code = failure.pointee.ErrCode.rawValue
            acks.tally.withLock { $0.failures.append("\(status) (JetStream error \(code)) \(text)") }
        }
        acks.signal()
        natsMsg_Destroy(message)
    }
}
