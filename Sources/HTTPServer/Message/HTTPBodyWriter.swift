// What a streaming response body writes into: each write suspends until the
// connection has drained enough (backpressure) and throws once the client is gone.

/// The sink of a streamed response body (`HTTPResponse.Body.stream`).
///
/// Call `write` from one task at a time. Empty writes are ignored.
public protocol HTTPBodyWriter: Sendable {
    /// Queues `bytes` on the connection. Suspends while more than a small buffer is
    /// waiting for the client to read; throws `HTTPBodyWriterError.clientDisconnected`
    /// once the client has disconnected, and `CancellationError` if the writing task is
    /// cancelled while the client is still connected (the server is shutting down).
    /// Either way the task is cancelled too, so a body waiting on something else (the
    /// next event) also learns that it should end.
    func write(_ bytes: [UInt8]) async throws
}

extension HTTPBodyWriter {
    /// Writes the UTF-8 bytes of `text`.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }
}

/// Why a body write failed.
public enum HTTPBodyWriterError: Error, Sendable, Equatable {
    /// The client closed the connection (or it failed) before the body was finished.
    case clientDisconnected
}
