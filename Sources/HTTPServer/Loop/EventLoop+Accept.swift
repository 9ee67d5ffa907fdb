// Accepting connections: admission against `maxConnections` and
// `maxConnectionsPerClient` (the extra ones get 503 and are closed), and backing
// off when the process runs out of descriptors.

extension EventLoop {
    func acceptConnections() {
        guard let listener else { return }
        for _ in 0..<Self.acceptBatch {
            switch listener.accept() {
            case .accepted(let socket, let remote):
                admit(socket, remote: remote)
            case .wouldBlock:
                return
            case .skipped:
                continue
            case .outOfResources, .failed:
                // The pending connection stays queued and the listener stays readable:
                // polling it now would spin. Rest, and let closing connections free fds.
                pauseListener()
                return
            }
        }
    }

    private func admit(_ socket: Socket, remote: SocketAddress) {
        let client = remote.host
        let fromClient = connectionsPerClient[client, default: 0]
        let refusal: String? =
            if connections.count - rejections >= configuration.maxConnections {
                "The server holds its limit of \(configuration.maxConnections) connections; retry shortly."
            } else if fromClient >= configuration.maxConnectionsPerClient {
                "The server holds its limit of \(configuration.maxConnectionsPerClient) connections from \(client); "
                    + "close idle ones or reuse them (keep-alive)."
            } else {
                nil
            }
        let isRejection = refusal != nil
        if isRejection, rejections >= Self.maxRejections {
            socket.close()
            return
        }
        let connection = Connection(
            id: nextID, socket: socket, remote: remote, limits: configuration.parserLimits,
            isRejection: isRejection, now: now
        )
        nextID += 1
        if let tls = configuration.tls {
            guard let session = TLSSession(context: tls.current, socket: socket) else {
                socket.close()
                return
            }
            connection.tls = session
        }
        guard epoll.add(socket.fd, token: connection.id, events: .readable) else {
            socket.close()
            return
        }
        connection.interest = .readable
        connections[connection.id] = connection
        if let refusal {
            rejections += 1
            respondWithError(503, detail: refusal, on: connection)
        } else {
            connectionsPerClient[client] = fromClient + 1
        }
        updateInterest(connection)
        updateDeadline(connection)
    }

    private func pauseListener() {
        guard let listener, listenerResumesAt == nil else { return }
        epoll.remove(listener.fd)
        listenerResumesAt = now + Self.acceptPause
    }

    func resumeListener() {
        listenerResumesAt = nil
        guard let listener else { return }
        epoll.add(listener.fd, token: Self.listenerToken, events: .readable)
    }
}
