// The threads behind `Blocking.run`: an elastic set, one thread per call in
// flight. A fixed pool would queue a quick store read behind a source that
// takes its whole connect timeout to refuse; so a call that finds no idle
// thread starts one, and a thread idle for `idleLifetime` ends. Reusing idle
// threads spares the busy paths (event pages, long-polls) a thread creation
// per call.

import Foundation

/// Threads that run submitted jobs, started on demand.
public final class BlockingThreads: @unchecked Sendable {
    /// The threads every `Blocking.run` uses.
    public static let shared = BlockingThreads(name: "popsink-blocking", idleSeconds: 10)

    // Guarded by `condition` (the project's one lock a thread can sleep on;
    // `Mutex` where nothing waits).
    private var jobs: [@Sendable () -> Void] = []
    /// Threads waiting for a job, and how many of them were signalled already.
    private var idle = 0
    private var wakeups = 0
    private let condition = NSCondition()
    private let name: String
    private let idleSeconds: Int

    init(name: String, idleSeconds: Int) {
        self.name = name
        self.idleSeconds = idleSeconds
    }

    /// Runs `job` on an idle thread, or on a new one when none is idle.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        if idle > wakeups {
            jobs.append(job)
            wakeups += 1
            condition.signal()
            condition.unlock()
            return
        }
        condition.unlock()
        spawn(first: job)
    }

    /// Runs `first`, then queued jobs until none came for `idleSeconds`.
    private func work(first: @Sendable () -> Void) {
        first()
        condition.lock()
        while true {
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            idle += 1
            let signalled = condition.wait(until: Date(timeIntervalSinceNow: TimeInterval(idleSeconds)))
            idle -= 1
            if wakeups > 0 { wakeups -= 1 }
            if !signalled, jobs.isEmpty {
                condition.unlock()
                return
            }
        }
    }

    /// Starts a named thread (a thread created from a pool thread would
    /// otherwise carry the pool's name, and profiles could not tell them apart).
    private func spawn(first job: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in work(first: job) }
        thread.name = name
        thread.start()
    }
}
