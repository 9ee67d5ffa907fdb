// The threads behind `Blocking.run`: an elastic set, one thread per call in
// flight. A fixed pool would queue a quick store read behind a source that
// takes its whole connect timeout to refuse; so a call that finds no idle
// thread starts one, and a thread idle for `idleLifetime` ends. Reusing idle
// threads spares the busy paths (event pages, long-polls) a thread creation
// per call.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Threads that run submitted jobs, started on demand.
public final class BlockingThreads: @unchecked Sendable {
    /// The threads every `Blocking.run` uses.
    public static let shared = BlockingThreads(name: "popsink-blocking", idleSeconds: 10)

    // Guarded by `mutex`: a pthread mutex and condition, so idle threads can sleep on it.
    private var jobs: [@Sendable () -> Void] = []
    /// Threads waiting for a job, and how many of them were signalled already.
    private var idle = 0
    private var wakeups = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let name: String
    private let idleSeconds: Int

    init(name: String, idleSeconds: Int) {
        self.name = name
        self.idleSeconds = idleSeconds
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Runs `job` on an idle thread, or on a new one when none is idle.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        if idle > wakeups {
            jobs.append(job)
            wakeups += 1
            pthread_cond_signal(condition)
            pthread_mutex_unlock(mutex)
            return
        }
        pthread_mutex_unlock(mutex)
        spawn(first: job)
    }

    /// Runs `first`, then queued jobs until none came for `idleSeconds`.
    private func work(first: @Sendable () -> Void) {
        first()
        pthread_mutex_lock(mutex)
        while true {
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                pthread_mutex_unlock(mutex)
                job()
                pthread_mutex_lock(mutex)
                continue
            }
            idle += 1
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            deadline.tv_sec += idleSeconds
            let waited = pthread_cond_timedwait(condition, mutex, &deadline)
            idle -= 1
            if wakeups > 0 { wakeups -= 1 }
            if waited == ETIMEDOUT, jobs.isEmpty {
                pthread_mutex_unlock(mutex)
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
