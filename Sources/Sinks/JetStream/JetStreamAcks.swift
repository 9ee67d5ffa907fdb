// Publish acknowledgements, counted as libnats's thread reports them (the
// AckHandler of `jsOptions.PublishAsync`). The forwarder's thread is woken
// only when what it waits for has arrived (or failed), not on every
// acknowledgement: with thousands in flight, a wake-up per message cost more
// than the publishing.

import CNATS
import Foundation
import Synchronization

final class JetStreamAcks: Sendable {
    struct Tally {
        var acknowledged = 0
        var highestSequence: UInt64 = 0
        var duplicates = 0
        var failures: [String] = []
        /// The stream sequence a waiter needs; `.max` when nobody waits.
        var wanted: UInt64 = .max

        /// Whether a waiter for `wanted` has its answer.
        var settles: Bool { highestSequence >= wanted || !failures.isEmpty || duplicates > 0 }
    }

    let tally = Mutex(Tally())
    private let arrived = NSCondition()

    func reset() { tally.withLock { $0 = Tally() } }

    /// Waits until the stream acknowledged `sequence`, a message failed or
    /// was a duplicate, or `deadline`; returns the tally then.
    func wait(forSequence sequence: UInt64, until deadline: Date) -> Tally {
        arrived.lock()
        defer { arrived.unlock() }
        tally.withLock { $0.wanted = sequence }
        defer { tally.withLock { $0.wanted = .max } }
        while true {
            let now = tally.withLock { $0 }
            if now.settles || !arrived.wait(until: deadline) { return tally.withLock { $0 } }
        }
    }

    private func signal() {
        arrived.lock()
        arrived.broadcast()
        arrived.unlock()
    }

    /// The C callback: `closure` is the `JetStreamAcks` the context was made with.
    static let handler: jsPubAckHandler = { _, message, ack, failure, closure in
        natsMsg_Destroy(message)
        guard let closure else { return }
        let acks = Unmanaged<JetStreamAcks>.fromOpaque(closure).takeUnretainedValue()
        let wake: Bool
        if let ack {
            let sequence = ack.pointee.Sequence
            let duplicate = ack.pointee.Duplicate
            wake = acks.tally.withLock {
                $0.acknowledged += 1
                $0.highestSequence = max($0.highestSequence, sequence)
                if duplicate { $0.duplicates += 1 }
                return $0.settles
            }
        } else if let failure {
            let status = String(cString: natsStatus_GetText(failure.pointee.Err))
            let text = failure.pointee.ErrText.map { String(cString: $0) } ?? ""
            let code = failure.pointee.ErrCode.rawValue
            acks.tally.withLock { $0.failures.append("\(status) (JetStream error \(code)) \(text)") }
            wake = true
        } else {
            wake = false
        }
        if wake { acks.signal() }
    }
}
