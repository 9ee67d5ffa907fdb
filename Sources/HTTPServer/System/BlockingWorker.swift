// One long-lived thread that runs blocking file-system work (realpath, open, read)
// for async callers, so those calls stay off the cooperative pool. Jobs run one at
// a time, in order; a slow disk delays static files, never the event loop or the API.
import Glibc

final class BlockingWorker: @unchecked Sendable {
    static let shared = BlockingWorker()

    // Guarded by `mutex`; a pthread mutex and condition so the worker can sleep.
    private var jobs: [@Sendable () -> Void] = []
    private var started = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Runs `work` on the worker thread and returns its result. If the thread cannot
    /// be started the work runs inline instead, which is slower for others but correct.
    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let job: @Sendable () -> Void = { continuation.resume(returning: work()) }
            guard submit(job) else { return job() }
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if !started {
            do {
                try SystemThread.spawn(name: "popsink-files") { [self] in work() }
            } catch {
                return false
            }
            started = true
        }
        jobs.append(job)
        pthread_cond_signal(condition)
        return true
    }

    private func work() {
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty { pthread_cond_wait(condition, mutex) }
            let job = jobs.removeFirst()
            pthread_mutex_unlock(mutex)
            job()
        }
    }
}
