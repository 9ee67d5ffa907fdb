// Turns SIGINT/SIGTERM into a callback, through Dispatch rather than a raw
// signal handler, so the callback may do anything.

import Dispatch
import CDC
import Foundation
import Logging

final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
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
