// Follows a pipeline's event store and forwards its events to one target, in
// store order, on a thread of its own (every target call blocks: sockets,
// librdkafka flushes, libnats acknowledgements). A pipelined target
// (`PipelinedSinkTarget`) has up to `batchesInFlight` batches in flight, the
// next ones sent while the oldest is acknowledged; others one. The position moves only
// over batches acknowledged whole, oldest first, and is saved in the sink's
// own file. After any failure the target is reopened and
// read back, so what it already holds is neither skipped nor sent twice.
// For a pipelined target, which is always read back, the saved position is
// only a floor: it is saved (with the retention hold) when the window
// empties and otherwise at most once a second, because each save costs two
// fsyncs and a write transaction in the store that waits for the
// pipeline's writer.
//
// It does not follow the store through `StoreTail`, although both wake on
// the same signal (the writer's group commit: the pipeline's `onDurable`
// calls `durable(upTo:)` here next to `DurableSequence.advance`). StoreTail
// is async: it reads on `Blocking` threads and waits on a continuation,
// for tasks. The forwarder is a thread of its own that blocks in libnats,
// librdkafka and sockets between reads; driving StoreTail from it would
// mean a task and a bridge back per wait, and its one cursor would still
// not say what the forwarder needs (sent, acknowledged, saved are three
// positions). So the forwarder reads with its own `EventStoreReader` and
// waits on its own condition, fed by the same commits.

import EventStore
import Foundation
import PostgresWire

/// Forwards one pipeline's events to one sink.
public final class SinkForwarder: @unchecked Sendable {
    public typealias TargetFactory = @Sendable () throws(SinkError) -> any SinkTarget
    /// Told, once, that sink `name` stopped for good with `error` (the sink is parked).
    public typealias ParkedHandler = @Sendable (_ name: String, _ error: SinkError) -> Void

    public let config: SinkConfig
    private let storePath: String
    private let positionFile: SinkPositionFile
    private let targetFactory: TargetFactory?
    private let onParked: ParkedHandler?
    private let pipelineID: String
    /// Without a wake-up from the writer (a store written by another process),
    /// how long to wait before looking at the store again.
    private let idleWait: Double
    /// The named consumer (`sink.<name>`) whose acknowledgements make the
    /// store's retention keep what this sink has not delivered.
    public var retentionConsumer: String { "sink.\(config.name)" }

    private enum Stop { case graceful, abrupt }

    /// Batches sent to a pipelined target and not yet acknowledged, oldest first.
    private struct Window {
        struct Batch {
            let first: (sequence: Int64, commitLSN: LSN)
            let last: SinkEvent
            let count: Int
            let began: ContinuousClock.Instant
        }
        /// The last sequence sent.
        var sentThrough: Int64
        var batches: [Batch] = []
    }

    /// Batches a pipelined target may have unacknowledged: up to 8, and no
    /// more than about 8,000 messages (at least 2), so big batches do not
    /// multiply what a slow target makes the service hold. Two kept a round
    /// trip between batches but left the target idle while the forwarder
    /// read and parsed the next one; more let libnats and librdkafka fill
    /// their own batches and acknowledge many messages per reply.
    public static func batchesInFlight(batchSize: Int) -> Int { max(2, min(8, 8_000 / max(batchSize, 1))) }

    /// Touched only by the forwarding thread.
    private nonisolated(unsafe) var consumers: EventStoreConsumers?
    /// When the position was last saved (forwarding thread only).
    private nonisolated(unsafe) var lastSaved = ContinuousClock.now
    /// How long a pipelined target's saved position may lag its acknowledgements.
    static let saveInterval = Duration.seconds(1)

    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var durableHint: Int64 = 0
    private var stopRequest: Stop?
    private var started = false
    private var finished = false
    private var current: SinkStatus
    /// The first event after the delivered position, once read (for `confirmBound`).
    private var nextUndelivered: (sequence: Int64, commitLSN: LSN)?

    /// - Parameters:
    ///   - positionPath: the sink's position file, beside the store (`SinkForwarder.positionPath`).
    ///   - makeTarget: the target to deliver to; by default the one `config` describes.
    ///   - onParked: called on the forwarding thread when the sink parks.
    public init(
        config: SinkConfig, pipelineID: String, storePath: String, positionPath: String, idleWait: Double = 1,
        makeTarget: TargetFactory? = nil, onParked: ParkedHandler? = nil
    ) {
        self.onParked = onParked
        self.config = config
        self.storePath = storePath
        self.positionFile = SinkPositionFile(path: positionPath)
        self.idleWait = idleWait
        self.targetFactory = makeTarget
        self.pipelineID = pipelineID
        current = SinkStatus(name: config.name, type: config.type)
    }

    /// The position file of sink `name` for the store at `storePath`: `<store directory>/sink-<name>.position`.
    public static func positionPath(storePath: String, sinkName: String) -> String {
        let directory = storePath.lastIndex(of: "/").map { String(storePath[..<$0]) } ?? "."
        return "\(directory)/sink-\(sinkName).position"
    }

    /// Starts the forwarding thread. Call once.
    public func start() {
        condition.lock()
        precondition(!started, "a sink forwarder starts once")
        started = true
        condition.unlock()
        let thread = Thread { [self] in run() }
        thread.name = "popsink-sink"
        thread.start()
    }

    /// Called after each group commit with the store's highest sequence: wakes the forwarder.
    public func durable(upTo sequence: Int64) {
        condition.lock()
        if sequence > durableHint {
            durableHint = sequence
            condition.broadcast()
        }
        condition.unlock()
    }

    /// What the sink is doing and how far it got.
    public var status: SinkStatus {
        condition.lock()
        defer { condition.unlock() }
        return current
    }

    /// How far the pipeline may confirm to Postgres on this sink's account
    /// (`confirm: delivered`).
    public var confirmBound: ConfirmBound {
        condition.lock()
        defer { condition.unlock() }
        return ConfirmBound(
            delivered: current.deliveredSequence, deliveredID: current.deliveredEventID, next: nextUndelivered)
    }

    /// Waits until every event up to `sequence` is delivered, the sink is
    /// parked or stopped, or `timeout` seconds passed; true when delivered.
    public func waitUntilDelivered(_ sequence: Int64, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while current.deliveredSequence < sequence && !finished && current.state != .parked {
            if !condition.wait(until: deadline) { break }
        }
        return current.deliveredSequence >= sequence
    }

    /// Waits until every event up to `sequence` is delivered, the sink is
    /// parked or stopped, or it delivered nothing for `stall` seconds; true when delivered.
    public func waitUntilDelivered(_ sequence: Int64, stalledFor stall: Double) -> Bool {
        var seen = status.deliveredSequence
        while true {
            if waitUntilDelivered(sequence, timeout: stall) { return true }
            let now = status
            if now.deliveredSequence == seen || now.state == .parked || now.state == .stopped { return false }
            seen = now.deliveredSequence
        }
    }

    /// Stops after the batch in flight is acknowledged and its position
    /// saved, and closes the target; returns when the thread has ended.
    public func stop() { stop(.graceful) }

    /// Asks for a graceful stop without waiting for it.
    public func requestStop() {
        condition.lock()
        if stopRequest == nil { stopRequest = .graceful }
        condition.broadcast()
        condition.unlock()
    }

    /// Stops like a crash: the batch in flight may or may not have reached the
    /// target, and its position is not saved (for tests of the resume).
    func crash() { stop(.abrupt) }

    private func stop(_ mode: Stop) {
        condition.lock()
        if stopRequest == nil { stopRequest = mode }
        condition.broadcast()
        if started { while !finished { condition.wait() } }
        condition.unlock()
    }

    // MARK: - The forwarding thread

    private func run() {
        var target: (any SinkTarget)?
        var reader: EventStoreReader?
        var backoff = Backoff()
        var position = SinkPosition.start
        var window = Window(sentThrough: 0)
        do throws(SinkError) {
            do {
                position = try positionFile.load() ?? .start
            } catch {
                count(error)
                throw error
            }
            update {
                $0.deliveredSequence = position.sequence
                $0.deliveredEventID = position.eventID
            }
            while true {
                if stopping != nil {
                    if stopping == .graceful, let pipelined = target as? any PipelinedSinkTarget {
                        // What is in flight is acknowledged and saved before the target closes.
                        while !window.batches.isEmpty,
                            (try? acknowledgeOldest(of: &window, on: pipelined, position: &position)) != nil
                        {}
                    }
                    break
                }
                do throws(SinkError) {
                    if reader == nil { reader = try openStore() }
                    guard let store = reader else {
                        waitForWork(after: position.sequence)
                        continue
                    }
                    let live: any SinkTarget
                    if let target {
                        live = target
                    } else {
                        update { $0.state = .starting }
                        let fresh = try makeTarget()
                        target = fresh
                        try fresh.open()
                        let resumed = try fresh.resume(saved: position, store: store)
                        if resumed != position.sequence {
                            position = SinkPosition(sequence: resumed, eventID: try eventID(at: resumed, in: store))
                            try positionFile.save(position)
                        }
                        live = fresh
                        window = Window(sentThrough: position.sequence)
                        holdRetention(at: position.sequence)
                        update {
                            $0.state = .running
                            $0.deliveredSequence = position.sequence
                            $0.deliveredEventID = position.eventID
                        }
                    }
                    let progressed =
                        if let pipelined = live as? any PipelinedSinkTarget {
                            try forwardPipelined(from: store, to: pipelined, position: &position, window: &window)
                        } else {
                            try forwardBatch(from: store, to: live, position: &position)
                        }
                    if !progressed {
                        waitForWork(after: position.sequence)
                    }
                    backoff.reset()
                } catch let error {
                    if stopping == .abrupt { break }
                    count(error)
                    target?.close(abrupt: false)
                    target = nil
                    if error.kind == .store {
                        reader?.close()
                        reader = nil
                    }
                    guard error.retryable else { throw error }
                    update {
                        $0.state = .retrying
                        $0.retries += 1
                    }
                    pause(seconds: backoff.next())
                }
            }
        } catch {
            update { $0.state = .parked }
            onParked?(config.name, error)
            condition.lock()
            while stopRequest == nil { condition.wait() }
            condition.unlock()
        }
        target?.close(abrupt: stopping == .abrupt)
        reader?.close()
        consumers?.close()
        condition.lock()
        if current.state != .parked { current.state = .stopped }
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Delivers the next batch; false when there was nothing to deliver.
    private func forwardBatch(
        from store: EventStoreReader, to target: any SinkTarget, position: inout SinkPosition
    ) throws(SinkError) -> Bool {
        let last = try storeCall { () throws(EventStoreError) in try store.lastSequence() }
        update { $0.storeSequence = last }
        guard last > position.sequence else { return false }
        let began = ContinuousClock.now
        let stored = try storeCall { () throws(EventStoreError) in
            try store.events(after: position.sequence, limit: config.batchSize)
        }
        guard let first = stored.first, first.sequence == position.sequence + 1 else {
            // Retention deleted events this sink had not delivered: say so
            // loudly and go on from the oldest one left.
            let oldest = try storeCall { () throws(EventStoreError) in try store.firstSequence() } ?? last + 1
            let lost = (stored.first?.sequence ?? oldest) - position.sequence - 1
            let skipTo = position.sequence + max(lost, 0)
            update {
                $0.lostEvents += max(lost, 0)
                $0.lastError =
                    "retention deleted \(lost) events after sequence \(position.sequence) before this sink delivered them; they are not in the target"
            }
            position = SinkPosition(sequence: skipTo, eventID: nil)
            try positionFile.save(position)
            return true
        }
        condition.lock()
        nextUndelivered = (first.sequence, first.commitLSN)
        condition.unlock()
        let events = try Self.sinkEvents(stored)
        try target.deliver(events)
        try delivered(through: events[events.count - 1], count: events.count, began: began, position: &position)
        return true
    }

    /// Moves the position over `count` events acknowledged through `last`:
    /// saved, held for retention, shown in status.
    private func delivered(
        through last: SinkEvent, count: Int, began: ContinuousClock.Instant, position: inout SinkPosition,
        save: Bool = true
    ) throws(SinkError) {
        // A crash does not get to record what it delivered.
        if stopping == .abrupt { throw SinkError(.connection, "stopped abruptly") }
        position = SinkPosition(sequence: last.sequence, eventID: last.id)
        let now = ContinuousClock.now
        if save || now - lastSaved >= Self.saveInterval {
            try positionFile.save(position)
            holdRetention(at: last.sequence)
            lastSaved = now
        }
        let elapsed = now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        update {
            $0.state = .running
            $0.deliveredSequence = last.sequence
            $0.deliveredEventID = last.id
            $0.deliveredTotal += Int64(count)
            $0.deliverySeconds.observe(seconds)
        }
    }

    private static func sinkEvents(_ stored: [StoredEvent]) throws(SinkError) -> [SinkEvent] {
        var events: [SinkEvent] = []
        events.reserveCapacity(stored.count)
        for event in stored { events.append(try SinkEvent(event)) }
        return events
    }

    /// Sends the next batch while fewer than `batchesInFlight` are in flight,
    /// else waits for the oldest one; false when there was nothing to do.
    private func forwardPipelined(
        from store: EventStoreReader, to target: any PipelinedSinkTarget, position: inout SinkPosition,
        window: inout Window
    ) throws(SinkError) -> Bool {
        if window.batches.count < Self.batchesInFlight(batchSize: config.batchSize) {
            let last = try storeCall { () throws(EventStoreError) in try store.lastSequence() }
            update { $0.storeSequence = last }
            if last > window.sentThrough {
                let began = ContinuousClock.now
                let stored = try storeCall { () throws(EventStoreError) in
                    try store.events(after: window.sentThrough, limit: config.batchSize)
                }
                if let first = stored.first, first.sequence == window.sentThrough + 1 {
                    if window.batches.isEmpty {
                        condition.lock()
                        nextUndelivered = (first.sequence, first.commitLSN)
                        condition.unlock()
                    }
                    let events = try Self.sinkEvents(stored)
                    try target.send(events)
                    window.sentThrough = events[events.count - 1].sequence
                    window.batches.append(
                        .init(
                            first: (first.sequence, first.commitLSN), last: events[events.count - 1],
                            count: events.count, began: began))
                    return true
                }
                // Retention deleted events this sink had not sent: once
                // nothing is in flight, the one-batch path says so and skips them.
                if window.batches.isEmpty {
                    let progressed = try forwardBatch(from: store, to: target, position: &position)
                    window.sentThrough = position.sequence
                    return progressed
                }
            }
        }
        guard !window.batches.isEmpty else { return false }
        try acknowledgeOldest(of: &window, on: target, position: &position)
        return true
    }

    /// Waits for the oldest batch in flight, then moves the position over it.
    private func acknowledgeOldest(
        of window: inout Window, on target: any PipelinedSinkTarget, position: inout SinkPosition
    ) throws(SinkError) {
        let batch = window.batches[0]
        try target.waitAcknowledged(through: batch.last.sequence)
        if stopping == .abrupt { throw SinkError(.connection, "stopped abruptly") }
        window.batches.removeFirst()
        if let next = window.batches.first {
            condition.lock()
            nextUndelivered = next.first
            condition.unlock()
        }
        try delivered(
            through: batch.last, count: batch.count, began: batch.began, position: &position,
            save: window.batches.isEmpty)
    }

    /// Acknowledges `sequence` as the sink's named consumer, so retention
    /// keeps every event after it (up to the store's hard cap). A failure
    /// only costs that hold, never a delivery: it is counted and shown.
    private func holdRetention(at sequence: Int64) {
        do {
            if consumers == nil { consumers = try EventStoreConsumers(path: storePath) }
            try consumers?.acknowledge(retentionConsumer, through: sequence)
        } catch {
            count(SinkError(.store, "acknowledging \(retentionConsumer) through \(sequence) for retention: \(error)"))
        }
    }

    private func makeTarget() throws(SinkError) -> any SinkTarget {
        if let targetFactory { return try targetFactory() }
        return try SinkTargets.make(config, pipelineID: pipelineID)
    }

    private func openStore() throws(SinkError) -> EventStoreReader? {
        // On a first run the store appears once the pipeline has created its slot.
        guard FileManager.default.fileExists(atPath: storePath) else { return nil }
        return try storeCall { () throws(EventStoreError) in try EventStoreReader(path: storePath) }
    }

    private func eventID(at sequence: Int64, in store: EventStoreReader) throws(SinkError) -> EventID? {
        guard sequence > 0 else { return nil }
        let events = try storeCall { () throws(EventStoreError) in try store.events(after: sequence - 1, limit: 1) }
        return events.first.map { EventID(commitLSN: $0.commitLSN, ordinal: $0.ordinal) }
    }

    private func storeCall<R>(_ body: () throws(EventStoreError) -> R) throws(SinkError) -> R {
        do {
            return try body()
        } catch {
            throw SinkError(.store, "reading the event store \(storePath): \(error)")
        }
    }

    // MARK: - State shared with other threads

    private var stopping: Stop? {
        condition.lock()
        defer { condition.unlock() }
        return stopRequest
    }

    private func update(_ change: (inout SinkStatus) -> Void) {
        condition.lock()
        change(&current)
        condition.broadcast()
        condition.unlock()
    }

    private func count(_ error: SinkError) {
        update {
            $0.errors[error.kind, default: 0] += 1
            $0.lastError = error.description
        }
    }

    private func waitForWork(after sequence: Int64) {
        let deadline = Date(timeIntervalSinceNow: idleWait)
        condition.lock()
        let seen = max(sequence, current.storeSequence)
        while durableHint <= seen && stopRequest == nil {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    private func pause(seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        while stopRequest == nil {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }
}
