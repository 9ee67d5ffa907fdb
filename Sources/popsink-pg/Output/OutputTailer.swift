// Copies newly durable events from the store to the output in a task of its
// own, following the store through `StoreTail` (woken by each group commit),
// so a slow reader of the output (a pipe, a full disk) never slows the
// replication stream; the store stays the record, the output follows it.

import Blocking
import EventStore
import Synchronization

final class OutputTailer: Sendable {
    /// Rows read from the store and written to the output per round.
    static let batch = 2000

    private let commits = DurableSequence()
    private let copying = Mutex<Task<Void, any Error>?>(nil)
    private let storePath: String
    private let after: Int64
    private let sink: Sink

    init(storePath: String, sink: JSONLinesFile, after sequence: Int64) {
        self.storePath = storePath
        self.sink = Sink(file: sink)
        after = sequence
    }

    func start() {
        let (storePath, after, commits, sink) = (storePath, after, commits, sink)
        copying.withLock { task in
            task = Task {
                let tail = StoreTail(path: storePath, after: after, commits: commits, batch: Self.batch)
                defer { tail.close() }
                while true {
                    let page = try await tail.next()
                    if page.isEmpty { break }
                    try await Blocking.run { try sink.file.write(page) }
                }
                try await Blocking.run { try sink.file.close() }
            }
        }
    }

    /// Called after each group commit with the store's highest sequence.
    func durable(upTo sequence: Int64) {
        commits.advance(to: sequence)
    }

    /// Writes everything durable so far, then stops; rethrows a write failure.
    func finish(upTo sequence: Int64) async throws {
        commits.advance(to: sequence)
        commits.close()
        try await copying.withLock { $0 }?.value
    }

    /// The output file, used by the copying task alone, one `Blocking.run` at
    /// a time: never from two threads at once.
    private final class Sink: @unchecked Sendable {
        let file: JSONLinesFile
        init(file: JSONLinesFile) { self.file = file }
    }
}
