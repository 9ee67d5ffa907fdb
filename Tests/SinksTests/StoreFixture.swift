// A real event store in a temporary directory, filled with events shaped
// like the pipeline's (an id, an op, a source block, a row key), spread over
// a few keys and tables so per-key order can be checked in the targets.

import EventStore
import Foundation
import PostgresWire

@testable import Sinks

final class StoreFixture {
    let directory: String
    let storePath: String
    let positionPath: String
    private let writer: EventStoreWriter
    private var commitLSN: UInt64 = 0x1000_0000
    let keys: Int

    init(keys: Int = 16) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sinks-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        storePath = directory + "/events.sqlite"
        positionPath = SinkForwarder.positionPath(storePath: storePath, sinkName: "test")
        writer = try EventStoreWriter(path: storePath, durability: .normal)
        self.keys = keys
    }

    deinit {
        writer.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Appends `count` events in transactions of `perTransaction`; returns the last sequence.
    @discardableResult
    func append(_ count: Int, perTransaction: Int = 10) throws -> Int64 {
        var remaining = count
        while remaining > 0 {
            commitLSN += 0x100
            let lsn = LSN(rawValue: commitLSN)
            try writer.beginGroup()
            for ordinal in 0..<min(perTransaction, remaining) {
                // The writer numbers events at commit: count them here.
                let sequence = writer.lastSequence + 1 + Int64(ordinal)
                let key = Int(sequence) % keys
                let table = key % 2 == 0 ? "orders" : "line items"
                let body =
                    #"{"id":"\#(lsn):\#(ordinal)","op":"u","ts_ms":1,"source":{"database":"app","schema":"public","table":"\#(table)","txid":1,"lsn":"\#(lsn)","commit_lsn":"\#(lsn)","commit_ts":null,"snapshot":false,"schema_version":2},"key":{"id":\#(key)},"before":null,"after":{"id":\#(key),"n":\#(sequence),"text":"a \"quoted\" value"}}"#
                _ = try writer.append(commitLSN: lsn, ordinal: Int32(ordinal), body: Array(body.utf8))
            }
            _ = try writer.commitGroup(checkpoint: Checkpoint(lastCommitLSN: lsn, flushLSN: lsn))
            remaining -= min(perTransaction, remaining)
        }
        return writer.lastSequence
    }

    var lastSequence: Int64 { writer.lastSequence }

    /// Retention: deletes the events up to `sequence`.
    func deleteEvents(upTo sequence: Int64) throws { _ = try writer.deleteEvents(upTo: sequence) }

    /// Every stored event, in order.
    func storedEvents() throws -> [SinkEvent] {
        let reader = try EventStoreReader(path: storePath)
        defer { reader.close() }
        var events: [SinkEvent] = []
        var after: Int64 = 0
        while true {
            let page = try reader.events(after: after, limit: 5000)
            guard let last = page.last else { return events }
            events += try page.map { try SinkEvent($0) }
            after = last.sequence
        }
    }
}

/// Waits up to `seconds` for `condition`.
func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}

/// A TCP port nothing listens on now.
func freeLoopbackPort() -> UInt16 {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = bind(socket, $0, length)
            _ = getsockname(socket, $0, &length)
        }
    }
    return UInt16(bigEndian: address.sin_port)
}
