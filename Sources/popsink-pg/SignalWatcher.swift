// Turns SIGINT/SIGTERM into a callback. A sigaction handler writes the signal
// number to a pipe and a thread of ours reads it, so the callback may do
// anything. Dispatch signal sources were dropped: on Linux they register
// asynchronously, and a signal in that window met SIG_IGN and was lost (a
// `serve` signalled during startup then ran until SIGKILL).

import CDC
import Foundation
import Logging
import Synchronization

/// The pipe's write end, set before any handler is installed; the handler
/// may only make async-signal-safe calls, so it reads this and nothing else.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

private func forwardSignal(_ number: Int32) {
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteEnd, &byte, 1)
    errno = savedErrno
}

/// One per process: the pipe and the reading thread live as long as it does.
final class SignalWatcher: Sendable {
    /// Whether a signal came, and what to do about it once that is known.
    private let state = Mutex<(signalled: Bool, handler: (@Sendable () -> Void)?)>((false, nil))

    /// Watches `signals` from now on: the handler is installed before this
    /// returns. A signal that comes before `handler` is set is kept, and the
    /// handler runs as soon as it is: as PID 1 of a container a process
    /// ignores every signal it has no handler for, so a `docker stop` during
    /// startup would otherwise be lost.
    init(signals: [Int32], handler: (@Sendable () -> Void)? = nil) {
        state.withLock { $0.handler = handler }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { fatalError("pipe() for signal delivery failed: errno \(errno)") }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        signalPipeWriteEnd = ends[1]
        let readEnd = ends[0]
        let thread = Thread { [self] in self.deliver(from: readEnd) }
        thread.name = "popsink-signals"
        thread.start()
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = forwardSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    private func deliver(from readEnd: Int32) {
        var byte: UInt8 = 0
        while true {
            let count = read(readEnd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return }
            let handler = state.withLock { state in
                state.signalled = true
                return state.handler
            }
            handler?()
        }
    }

    /// Sets what a signal does; runs it at once if one already came.
    func onSignal(_ handler: @escaping @Sendable () -> Void) {
        let signalled = state.withLock { state in
            state.handler = handler
            return state.signalled
        }
        if signalled { handler() }
    }

    /// Later signals are only noted: the process is on its way out.
    func cancel() {
        state.withLock { $0.handler = nil }
    }
}

/// Logs state changes of a running pipeline to standard error.
final class StateReporter: Sendable {
    private let task: Task<Void, Never>

    init(pipeline: CDC.Pipeline, logger: Logging.Logger) {
        task = Task {
            var last: PipelineState?
            while !Task.isCancelled {
                let status = pipeline.status
                if status.state != last {
                    var message = "pipeline \(pipeline.config.id): \(status.state.rawValue)"
                    if status.state == .retrying, let error = status.lastError {
                        message += " (attempt \(status.retryAttempt)): \(error)"
                    }
                    logger.info("\(message)")
                    last = status.state
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    func cancel() { task.cancel() }
}
