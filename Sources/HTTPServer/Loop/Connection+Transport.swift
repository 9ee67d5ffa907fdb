// Bytes in and out of a connection: through its TLS session when the server
// serves HTTPS, straight through the socket otherwise.

extension Connection {
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Socket.IOResult {
        tls?.receive(into: buffer) ?? socket.receive(into: buffer)
    }

    func send(_ bytes: UnsafeRawBufferPointer) -> Socket.IOResult {
        tls?.send(bytes) ?? socket.send(bytes)
    }

    /// Readiness the connection needs beyond its own reading and writing: a TLS
    /// read waiting to send, a TLS write waiting to receive.
    func tlsInterest(reading: Bool, writing: Bool) -> EPoll.Events {
        guard let tls else { return [] }
        var events: EPoll.Events = []
        if reading, tls.readWaitsForWritable { events.insert(.writable) }
        if writing, tls.writeWaitsForReadable { events.insert(.readable) }
        return events
    }

    /// Whether the handshake of an HTTPS connection is still under way: no HTTP can be answered yet.
    var isHandshaking: Bool { tls.map { !$0.isEstablished } ?? false }
}
