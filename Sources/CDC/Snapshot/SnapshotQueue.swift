// The hand-over between the snapshot's workers and the one thread that
// writes the store. Bounded, so a fast COPY waits for the disk instead of
// piling rows up in memory: at most `capacity` batches are in flight.

import Foundation

/// Encoded rows of one chunk, cut at a page boundary.
struct SnapshotBatch: Sendable {
    let chunk: Int64
    /// Each row's event, minus its `{"id":"…:N` head, back to back.
    var tails: [UInt8] = []
    /// Where each row's bytes end in `tails`.
    var ends: [Int] = []
    /// Rows of pages before this one are in this batch or an earlier one.
    var nextPage: UInt32
    var finishesChunk = false

    var count: Int { ends.count }

    init(chunk: Int64, nextPage: UInt32, capacity: Int = 0) {
        self.chunk = chunk
        self.nextPage = nextPage
        // Room for the bound and one more row of the last page, so the
        // buffer is not doubled just before the batch is handed over.
        tails.reserveCapacity(capacity + capacity / 8)
    }

    func forEachRow(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try tails.withUnsafeBytes { all in
            var start = 0
            for end in ends {
                try body(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }
}

final class SnapshotQueue: @unchecked Sendable {
    enum Item {
        case batch(SnapshotBatch)
        case workerFinished
        case workerFailed(any Error)
    }

    private let condition = NSCondition()
    /// Taken items are set to nil at once: a batch must not outlive its hand-over.
    private var items: [Item?] = []
    private var head = 0
    private let capacity: Int
    private var cancelled = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Hands over a batch, waiting while the queue is full; false once the
    /// load is cancelled (the worker then stops reading).
    func put(_ batch: SnapshotBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && items.count - head >= capacity { condition.wait() }
        guard !cancelled else { return false }
        items.append(.batch(batch))
        condition.broadcast()
        return true
    }

    /// A worker's last word; never waits, so it always gets through.
    func finish(_ item: Item) {
        condition.lock()
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// The next item, or nil when none arrived within `timeout`.
    func take(timeout: TimeInterval) -> Item? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while head == items.count {
            if !condition.wait(until: deadline) { return nil }
        }
        let item = items[head]!
        items[head] = nil
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return item
    }

    /// Wakes every waiting worker with `false`; batches still queued are dropped by the writer.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
