// Turns SIGINT/SIGTERM into a callback, through Dispatch rather than a raw
// signal handler, so the callback may do anything.

import CDC
import Dispatch
import Foundation
import Logging
import Synchronization

final class SignalWatcher {
    /// Whether a signal came, and what to do about it once that is known.
    private final class Latch: Sendable {
        let state = Mutex<(signalled: Bool, handler: (@Sendable () -> Void)?)>((false, nil))
    }

    private let sources: [any DispatchSourceSignal]
    private let latch = Latch()

    /// Watches `signals` from now on. A signal that comes before the handler
    /// is set is kept, and the handler runs as soon as it is: as PID 1 of a
    /// container a process ignores every signal it has no handler for, so a
    /// `docker stop` during startup would otherwise be lost.
    init(signals: [Int32], handler: (@Sendable () -> Void)? = nil) {
        latch.state.withLock { $0.handler = handler }
        let latch = self.latch
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let handler = latch.state.withLock { state in
                    state.signalled = true
                    return state.handler
                }
                handler?()
            }
            source.resume()
            return source
        }
    }

    /// Sets what a signal does; runs it at once if one already came.
    func onSignal(_ handler: @escaping @Sendable () -> Void) {
        let signalled = latch.state.withLock { state in
            state.handler = handler
            return state.signalled
        }
        if signalled { handler() }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
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
