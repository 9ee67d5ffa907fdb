// Reading, parsing and writing one connection, and closing it. Requests are
// handled one at a time per connection; pipelined ones wait, parsed lazily, until
// the response before them is queued, so responses leave in request order.

extension EventLoop {
    func handle(_ events: EPoll.Events, on connection: Connection) {
        // A TLS read may wait for the socket to be writable, a TLS write for it to be readable.
        let tlsReadWaits = connection.tls?.readWaitsForWritable ?? false
        if events.contains(.writable) || (events.contains(.readable) && connection.tls?.writeWaitsForReadable == true) {
            flush(connection)
            if !connection.isClosed, connection.isReading { processRequests(connection) }
        }
        if !connection.isClosed,
            !events.isDisjoint(with: [.readable, .hangup, .error]) || (events.contains(.writable) && tlsReadWaits)
        {
            readInput(connection)
        }
        // HUP: both directions are shut (or reset), nothing can be written any more.
        if !connection.isClosed, !events.isDisjoint(with: [.hangup, .error]) {
            destroy(connection)
        }
        if !connection.isClosed {
            updateInterest(connection)
            updateDeadline(connection)
        }
    }

    private func acceptsInput(_ connection: Connection) -> Bool {
        switch connection.phase {
        case .lingering: true
        case .closing: false
        case .reading, .handling, .streaming: connection.parser.bufferedByteCount < Self.inputLimit
        }
    }

    private func readInput(_ connection: Connection) {
        var budget = Self.readBudget
        reading: while budget > 0, !connection.readClosed, acceptsInput(connection) {
            switch connection.receive(into: readBuffer) {
            case .transferred(let count):
                budget -= count
                connection.lastRead = now
                if case .lingering = connection.phase { continue }
                if connection.parser.isIdle, connection.requestsServed > 0 { connection.requestStart = now }
                connection.parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[..<count]))
            case .wouldBlock:
                break reading
            case .endOfFile:
                connection.readClosed = true
            case .failed:
                destroy(connection)
                return
            }
        }
        switch connection.phase {
        case .reading:
            processRequests(connection)
            if !connection.isClosed, connection.isReading, connection.readClosed {
                // Nothing more will arrive: an unfinished request is abandoned.
                if connection.output.isEmpty { destroy(connection) } else { connection.phase = .closing(linger: false) }
            }
        case .handling where connection.readClosed:
            // Half-closing is legal, but in practice a client that shuts its
            // side has left: a long-poll waiting for it may end.
            connection.watch?.close()
        case .streaming where connection.readClosed, .lingering where connection.readClosed:
            // An event-stream client that closes has gone away.
            destroy(connection)
        default:
            break
        }
    }

    /// Parses and dispatches buffered requests while the connection is free to take one.
    func processRequests(_ connection: Connection) {
        while connection.isReading, connection.output.count < Self.outputLimit {
            let event: HTTPRequestParser.Event?
            do {
                event = try connection.parser.next()
            } catch {
                respondWithError(error.status, detail: error.detail(limits: configuration.parserLimits), on: connection)
                return
            }
            guard let event else { break }
            switch event {
            case .expectContinue:
                connection.output.append(ResponseSerializer.continueResponse)
            case .request(var request):
                request.remoteAddress = connection.remoteAddress
                connection.watch = request.connection
                dispatch(request, on: connection)
            }
        }
        flush(connection)
    }

    private func dispatch(_ request: HTTPRequest, on connection: Connection) {
        connection.phase = .handling(
            Connection.ResponseContext(
                keepAlive: request.wantsKeepAlive && !isShuttingDown && !isWornOut(connection),
                isHead: request.method == "HEAD",
                version: request.version
            )
        )
        let (id, handler, inbox) = (connection.id, handler, inbox)
        // Started on this thread, where it runs until it first suspends: a
        // handler that answers from memory (/healthz, a status) is done before
        // this returns, with no hop to the cooperative pool and back. Each hop
        // is a wake-up, and on a busy CPU a wake-up can wait for a time slice.
        // bench/api on 2 cores, a pipeline streaming flat out, 4 runs each
        // with nothing else running: p99 of /healthz 6.0-6.6 ms before, 4.8-6.0
        // after; of a status 6.3-8.8 ms before, 5.6-6.4 after. After it
        // suspends, it continues on the handler threads, not the pool.
        connection.task = Task.immediate(executorPreference: handlerExecutor) {
            await RequestTask.run(request, connection: id, handler: handler, inbox: inbox)
        }
    }

    /// Whether the request being dispatched must be the connection's last: it reached
    /// `maxRequestsPerConnection` or `maxConnectionAge`.
    private func isWornOut(_ connection: Connection) -> Bool {
        connection.requestsServed + 1 >= configuration.maxRequestsPerConnection
            || now - connection.createdAt >= configuration.maxConnectionAge
    }

    /// Queues the server's own error response; the connection closes after it (an error
    /// leaves the framing of whatever follows unknown).
    func respondWithError(_ status: Int, detail: String, on connection: Connection) {
        connection.output.append(ResponseSerializer.error(status: status, detail: detail, date: date.now()))
        connection.phase = .closing(linger: true)
        connection.lastWrite = now
        flush(connection)
    }

    /// Sends what the socket takes now. Ends a closing connection once all is sent, and
    /// wakes body writers once the queue is short again.
    func flush(_ connection: Connection) {
        sending: while !connection.output.isEmpty {
            var result = Socket.IOResult.wouldBlock
            connection.output.sendFirst { bytes in
                result = connection.send(bytes)
                if case .transferred(let count) = result { return count }
                return 0
            }
            switch result {
            case .transferred: connection.lastWrite = now
            case .wouldBlock: break sending
            case .endOfFile, .failed:
                destroy(connection)
                return
            }
        }
        if connection.output.isEmpty, case .closing(let linger) = connection.phase {
            guard linger, !connection.readClosed else {
                destroy(connection)
                return
            }
            connection.tls?.closeNotify()
            connection.socket.shutdownWrite()
            connection.phase = .lingering
            connection.idleSince = now
        }
        if connection.output.count < Self.outputLimit, !connection.waitingWriters.isEmpty {
            let writers = connection.waitingWriters
            connection.waitingWriters = []
            for writer in writers { writer.resume() }
        }
        updateInterest(connection)
        updateDeadline(connection)
    }

    func updateInterest(_ connection: Connection) {
        guard !connection.isClosed else { return }
        var events: EPoll.Events = []
        let reading = !connection.readClosed && acceptsInput(connection)
        if reading { events.insert(.readable) }
        if !connection.output.isEmpty { events.insert(.writable) }
        events.formUnion(connection.tlsInterest(reading: reading, writing: !connection.output.isEmpty))
        if events != connection.interest {
            epoll.modify(connection.socket.fd, token: connection.id, events: events)
            connection.interest = events
        }
    }

    /// Closes the socket and forgets the connection. Body writers waiting on it fail;
    /// a streaming body's task is cancelled (a handler still computing its response is
    /// left to finish unless `cancelTask`: its side effects should not depend on
    /// whether the client waited).
    func destroy(_ connection: Connection, cancelTask: Bool = false) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        connection.socket.close()
        connection.watch?.close()
        connections[connection.id] = nil
        if connection.isRejection {
            rejections -= 1
        } else if let count = connectionsPerClient[connection.client] {
            connectionsPerClient[connection.client] = count > 1 ? count - 1 : nil
        }
        let writers = connection.waitingWriters
        connection.waitingWriters = []
        for writer in writers { writer.resume(throwing: HTTPBodyWriterError.clientDisconnected) }
        if cancelTask || connection.isStreaming { connection.task?.cancel() }
        connection.task = nil
    }
}
