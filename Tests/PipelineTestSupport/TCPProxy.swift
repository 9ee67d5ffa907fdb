// A loopback TCP proxy the fault tests own, put between the pipeline and
// Postgres to break the network in ways a real one breaks:
//
// - `reset()`: every current connection is aborted with an RST on both sides;
// - `stall()`: every current connection goes silent. The server's side is
//   closed (its backend ends and lets go of the slot), the client's side stays
//   open and never hears another byte: a half-open connection, as after a
//   crashed host or a NAT that forgot the flow, which poll() cannot see.
//
// `throttle(bytesPerSecond:)` makes every connection a slow link, both ways,
// until it is called with 0.
//
// `stallReplication()` stalls only walsender connections (their startup
// packet asks for `replication`), so the replication stream's own silence
// detection is what has to notice.
//
// Connections opened afterwards are forwarded normally, so recovery can be
// proven. One thread accepts; each connection has a thread pumping both ways.

import Foundation
import PostgresTestSupport
import Synchronization

public final class TCPProxy: Sendable {
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let closed = Atomic<Bool>(false)
    /// Connections numbered below these are reset / stalled.
    private let resetBelow = Atomic<Int>(0)
    private let stallBelow = Atomic<Int>(0)
    private let stallReplicationBelow = Atomic<Int>(0)
    private let bytesPerSecond = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let replicationBytesDown = Atomic<Int>(0)
    /// Client sockets of stalled connections, closed only by `close()`.
    private let silent = LockedValue<[Int32]>([])

    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw TestPostgresError("proxy: socket() failed, errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound, listen(listener, 64) == 0 else {
            Glibc.close(listener)
            throw TestPostgresError("proxy: cannot listen on 127.0.0.1, errno \(errno)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "tcp-proxy-accept"
        thread.start()
    }

    /// Bytes forwarded from the server to replication (walsender) connections so far.
    public var replicationBytesReceived: Int { replicationBytesDown.load(ordering: .relaxed) }

    /// Connections accepted so far.
    public var connections: Int { accepted.load(ordering: .relaxed) }

    /// Aborts every current connection with an RST to both ends.
    public func reset() { resetBelow.store(accepted.load(ordering: .relaxed), ordering: .relaxed) }

    /// Makes every current connection half-open: see the file's header.
    public func stall() { stallBelow.store(accepted.load(ordering: .relaxed), ordering: .relaxed) }

    /// Forwards at most about `bytesPerSecond` per connection and direction; 0 lifts the limit.
    public func throttle(bytesPerSecond rate: Int) { bytesPerSecond.store(rate, ordering: .relaxed) }

    /// Makes every current replication connection half-open; other connections carry on.
    public func stallReplication() {
        stallReplicationBelow.store(accepted.load(ordering: .relaxed), ordering: .relaxed)
    }

    /// Stops accepting and closes every connection.
    public func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        for descriptor in silent.withLock({ $0 }) { Glibc.close(descriptor) }
    }

    deinit { close() }

    private func acceptLoop() {
        defer { Glibc.close(listener) }
        while !closed.load(ordering: .relaxed) {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else {
                Glibc.close(upstream)
                Glibc.close(client)
                continue
            }
            let number = accepted.add(1, ordering: .relaxed).oldValue
            let thread = Thread { [self] in pump(number: number, client: client, upstream: upstream) }
            thread.name = "tcp-proxy-\(number)"
            thread.start()
        }
    }

    private func pump(number: Int, client: Int32, upstream: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        // The client's first bytes: an SSLRequest and the startup packet with its parameters.
        var opening: [UInt8] = []
        var isReplication = false
        while !closed.load(ordering: .relaxed) {
            if number < resetBelow.load(ordering: .relaxed) {
                Self.abort(client)
                Self.abort(upstream)
                return
            }
            if number < stallBelow.load(ordering: .relaxed)
                || (isReplication && number < stallReplicationBelow.load(ordering: .relaxed))
            {
                Glibc.close(upstream)
                silent.withLock { $0.append(client) }
                return
            }
            var descriptors = [
                pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                pollfd(fd: upstream, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&descriptors, 2, 100) > 0 else { continue }
            for (index, from, to) in [(0, client, upstream), (1, upstream, client)]
            where descriptors[index].revents != 0 {
                let rate = bytesPerSecond.load(ordering: .relaxed)
                let count = read(from, &buffer, rate > 0 ? min(buffer.count, max(512, rate / 20)) : buffer.count)
                guard count > 0, Self.writeAll(to, buffer, count) else {
                    Glibc.close(client)
                    Glibc.close(upstream)
                    return
                }
                if index == 1 && isReplication { replicationBytesDown.add(count, ordering: .relaxed) }
                if rate > 0 { usleep(UInt32(min(1_000_000, count * 1_000_000 / rate))) }
                if index == 0 && opening.count < 4096 {
                    opening += buffer[..<min(count, 4096)]
                    isReplication = isReplication || Self.contains(opening, Array("replication\0".utf8))
                }
            }
        }
        Glibc.close(client)
        Glibc.close(upstream)
    }

    private static func writeAll(_ descriptor: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var written = 0
        while written < count {
            let result = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, count - written) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return false }
            written += result
        }
        return true
    }

    private static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    /// Closes with SO_LINGER 0, which sends an RST instead of a FIN.
    private static func abort(_ descriptor: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(descriptor)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
