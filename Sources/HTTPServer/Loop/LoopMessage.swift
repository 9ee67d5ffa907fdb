// What other threads hand to the event loop: handler results, streamed body writes
// and the shutdown request. Connections are named by id, never by descriptor.

enum LoopMessage: Sendable {
    /// A handler returned `response` for the request in flight on `connection`.
    case response(connection: UInt64, HTTPResponse)
    /// A streamed body wants `bytes` written; `resume` is resumed once the connection has
    /// room for more, or fails once the client is gone (or the writing task is `cancelled`).
    case write(connection: UInt64, bytes: [UInt8], cancelled: Bool, resume: CheckedContinuation<Void, any Error>)
    /// The streamed body of `connection` is finished (`succeeded`) or failed.
    case streamEnded(connection: UInt64, succeeded: Bool)
    case shutdown

    /// Called for messages that can no longer be delivered: the loop has exited.
    func abandon() {
        if case .write(_, _, _, let resume) = self { resume.resume(throwing: HTTPBodyWriterError.clientDisconnected) }
    }
}
