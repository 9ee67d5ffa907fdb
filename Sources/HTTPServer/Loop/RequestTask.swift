// The task that runs a handler (started on the event loop's thread, on Swift's
// cooperative pool once it suspends) and reports back to the event loop through
// its inbox, including the body writes of a streamed response.

enum RequestTask {
    static func run(
        _ request: HTTPRequest, connection: UInt64, handler: @escaping HTTPHandler, inbox: LoopInbox
    ) async {
        let response = await handler(request)
        inbox.post(.response(connection: connection, response))
        guard response.streamsBody(forMethod: request.method), case .stream(let produce) = response.body else { return }
        do {
            try await produce(ConnectionBodyWriter(connection: connection, inbox: inbox))
            inbox.post(.streamEnded(connection: connection, succeeded: true))
        } catch {
            inbox.post(.streamEnded(connection: connection, succeeded: false))
        }
    }
}

/// Hands body bytes to the loop and waits until it says the connection has room.
struct ConnectionBodyWriter: HTTPBodyWriter {
    let connection: UInt64
    let inbox: LoopInbox

    /// The loop decides how a write fails: `clientDisconnected` once the connection is
    /// gone (even though the loop also cancels the task then), `CancellationError` when
    /// the task was cancelled while the client is still there (shutdown).
    func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        let cancelled = Task.isCancelled
        try await withCheckedThrowingContinuation { (resume: CheckedContinuation<Void, any Error>) in
            inbox.post(.write(connection: connection, bytes: bytes, cancelled: cancelled, resume: resume))
        }
    }
}
