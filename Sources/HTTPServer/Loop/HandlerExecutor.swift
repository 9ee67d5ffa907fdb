// The threads request handlers run on after they first suspend, owned by the
// server rather than borrowed from Swift's cooperative pool. The pool has one
// thread per core; when code elsewhere in the process holds those threads
// (a blocking call made by mistake, a burst of CPU work), handlers queued
// behind it would leave health checks, metrics and the console unanswered.
// With this executor as their task's preference, handlers, and the default
// actors they call, keep running (SE-0417). Blocking calls still go through
// `Blocking.run`: these threads are few too.
//
// Seen in the test process, where synchronous tests hold pool threads for
// tens of seconds: a streamed response and a static file went unanswered for
// more than 30 s until this executor.
import Glibc
import Synchronization

final class HandlerExecutor: TaskExecutor, @unchecked Sendable {
    /// Every server of the process shares these threads; they live as long as it.
    static let shared = Result { () throws(HTTPServerError) -> HandlerExecutor in
        try HandlerExecutor(threads: max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }

    private let jobs = Mutex<[UnownedJob]>([])
    /// Counts queued jobs; a thread takes one job per successful wait.
    private let available: UnsafeMutablePointer<sem_t>

    private init(threads: Int) throws(HTTPServerError) {
        available = .allocate(capacity: 1)
        sem_init(available, 0, 0)
        for _ in 0..<threads {
            try SystemThread.spawn(name: "popsink-handler") { [self] in work() }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        sem_post(available)
    }

    private func work() {
        let executor = asUnownedTaskExecutor()
        while true {
            while sem_wait(available) != 0 {}  // EINTR
            let job = jobs.withLock { $0.removeFirst() }
            job.runSynchronously(on: executor)
        }
    }
}
