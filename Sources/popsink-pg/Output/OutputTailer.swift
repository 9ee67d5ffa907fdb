// Copies newly durable events from the store to the output on a thread of its
// own, so a slow reader of the output (a pipe, a full disk) never slows the
// replication stream; the store stays the record, the output follows it.

import EventStore
import Foundation

final class OutputTailer: @unchecked Sendable {
    // All mutable state is guarded by `condition`.
    private let condition = NSCondition()
    private var durableSequence: Int64
    private var finishing = false
    private var finished = false
    private var failure: (any Error)?

    private let storePath: String
    private let sink: JSONLinesFile
    private var written: Int64

    init(storePath: String, sink: JSONLinesFile, after sequence: Int64) {
        self.storePath = storePath
        self.sink = sink
        written = sequence
        durableSequence = sequence
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "popsink-output"
        thread.start()
    }

    /// Called after each group commit with the store's highest sequence.
    func durable(upTo sequence: Int64) {
        condition.lock()
        durableSequence = max(durableSequence, sequence)
        condition.signal()
        condition.unlock()
    }

    /// Writes everything durable so far, then stops; rethrows a write failure.
    func finish(upTo sequence: Int64) throws {
        condition.lock()
        durableSequence = max(durableSequence, sequence)
        finishing = true
        condition.signal()
        while !finished { condition.wait() }
        let failure = failure
        condition.unlock()
        if let failure { throw failure }
    }

    private func run() {
        do {
            // Opened on first use: on a first run the store does not exist
            // until the pipeline has created its slot.
            var reader: EventStoreReader?
            while true {
                condition.lock()
                while durableSequence <= written && !finishing { condition.wait() }
                let target = durableSequence
                let done = finishing && durableSequence <= written
                condition.unlock()
                if done { break }
                if reader == nil { reader = try EventStoreReader(path: storePath) }
                while let reader, written < target {
                    let page = try reader.events(after: written, limit: 2000)
                    // Nothing there although the writer said so: retention
                    // removed it. Skip ahead rather than spin.
                    guard let last = page.last else { written = target; break }
                    try sink.write(page)
                    written = last.sequence
                }
            }
            try sink.close()
        } catch {
            condition.lock()
            failure = error
            condition.unlock()
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
