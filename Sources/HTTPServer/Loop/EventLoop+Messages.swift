// Messages from handler tasks and from `HTTPServer`: responses to write, streamed
// body chunks, the end of a stream, and graceful shutdown.

extension EventLoop {
    func receiveMessages() {
        for message in inbox.take() {
            switch message {
            case .response(let id, let response): deliver(response, to: id)
            case .write(let id, let bytes, let cancelled, let resume):
                write(bytes, to: id, cancelled: cancelled, resume: resume)
            case .streamEnded(let id, let succeeded): endStream(of: id, succeeded: succeeded)
            case .shutdown: beginShutdown()
            }
        }
    }

    private func deliver(_ response: HTTPResponse, to id: UInt64) {
        guard let connection = connections[id], case .handling(var context) = connection.phase else { return }
        if response.headers.containsToken("close", in: "Connection") || isShuttingDown { context.keepAlive = false }
        let sendsContent = response.statusAllowsContent && !context.isHead
        switch response.body {
        case .bytes(let bytes):
            // RFC 9110 §8.6: a HEAD response may carry the Content-Length a GET would have.
            let framing: ResponseSerializer.Framing = response.statusAllowsContent ? .length(bytes.count) : .none
            connection.output.append(head(of: response, framing: framing, context: context))
            if sendsContent { connection.output.append(bytes) }
            complete(connection, context)
        case .stream:
            context.chunked = context.version.isAtLeast1_1
            if !context.chunked { context.keepAlive = false }
            let framing: ResponseSerializer.Framing =
                !response.statusAllowsContent ? .none : context.chunked ? .chunked : .closeDelimited
            connection.output.append(head(of: response, framing: framing, context: context))
            if sendsContent {
                connection.phase = .streaming(context)
                flush(connection)
            } else {
                complete(connection, context)
            }
        }
    }

    private func head(
        of response: HTTPResponse, framing: ResponseSerializer.Framing, context: Connection.ResponseContext
    ) -> [UInt8] {
        ResponseSerializer.head(
            status: response.status, headers: response.headers, framing: framing, keepAlive: context.keepAlive,
            version: context.version, date: date.now()
        )
    }

    /// The response is fully queued: go on with the next request, or close.
    private func complete(_ connection: Connection, _ context: Connection.ResponseContext) {
        connection.task = nil
        connection.requestsServed += 1
        if !context.keepAlive || connection.readClosed || isShuttingDown {
            // Linger only if the client sent more than was read, lest that reset the connection.
            connection.phase = .closing(linger: connection.parser.bufferedByteCount > 0)
            flush(connection)
        } else {
            connection.phase = .reading
            connection.requestStart = now
            connection.idleSince = now
            processRequests(connection)
        }
        updateInterest(connection)
        updateDeadline(connection)
    }

    private func write(_ bytes: [UInt8], to id: UInt64, cancelled: Bool, resume: CheckedContinuation<Void, any Error>) {
        guard let connection = connections[id], case .streaming(let context) = connection.phase else {
            resume.resume(throwing: HTTPBodyWriterError.clientDisconnected)
            return
        }
        guard !cancelled else {
            resume.resume(throwing: CancellationError())
            return
        }
        connection.output.append(context.chunked ? ResponseSerializer.chunk(bytes) : bytes)
        connection.waitingWriters.append(resume)
        flush(connection)
    }

    private func endStream(of id: UInt64, succeeded: Bool) {
        guard let connection = connections[id], case .streaming(var context) = connection.phase else { return }
        if succeeded, context.chunked {
            connection.output.append(ResponseSerializer.lastChunk)
        } else if !succeeded {
            // Without the last chunk (or with a close-delimited body cut short) the
            // client can tell the response is incomplete once the connection closes.
            context.keepAlive = false
        }
        complete(connection, context)
    }

    /// Stops accepting and closes connections with no request in flight. Requests being
    /// handled finish (their connections then close); streamed bodies are cancelled so
    /// they can end; whatever is left at the deadline is cut.
    private func beginShutdown() {
        guard !isShuttingDown else { return }
        shutdownDeadline = now + configuration.shutdownDeadline
        if let listener {
            epoll.remove(listener.fd)
            listener.close()
            self.listener = nil
        }
        listenerResumesAt = nil
        for connection in Array(connections.values) {
            switch connection.phase {
            case .reading where !connection.parser.isReadingBody:
                if connection.output.isEmpty {
                    destroy(connection)
                } else {
                    connection.phase = .closing(linger: false)
                    updateInterest(connection)
                    updateDeadline(connection)
                }
            case .streaming:
                connection.task?.cancel()
            default:
                break
            }
        }
    }
}
