// A JSON-lines destination: a file (appended to) or standard output, with
// writes batched into large buffers and partial writes and EINTR handled.

import EventStore
import Foundation

final class JSONLinesFile {
    let path: String?
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    /// - Parameter path: a file path, or "-" for standard output.
    init(path: String, append: Bool) throws {
        if path == "-" {
            self.path = nil
            descriptor = STDOUT_FILENO
        } else {
            self.path = path
            let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
            descriptor = open(path, flags, 0o644)
            guard descriptor >= 0 else {
                throw OutputError("cannot open \(path) for writing: \(String(cString: strerror(errno)))")
            }
        }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ events: [StoredEvent]) throws {
        for event in events {
            buffer.append(contentsOf: event.body)
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 { try flush() }
        }
        try flush()
    }

    func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw OutputError("cannot write to \(path ?? "standard output"): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if path != nil { Foundation.close(descriptor) }
    }

    /// The sequence number to continue after, so that re-running with the same
    /// output file neither skips nor repeats events: the stored sequence of the
    /// file's last complete line. A half-written last line (a crash mid-write)
    /// is cut off first. Returns nil when the file is new or empty.
    static func resumePoint(path: String, store: EventStoreReader) throws -> Int64? {
        guard path != "-", let handle = FileHandle(forUpdatingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        guard size > 0 else { return nil }
        // Read backwards in growing windows until a whole last line is in view.
        var window: UInt64 = 64 * 1024
        while true {
            let start = size > window ? size - window : 0
            try handle.seek(toOffset: start)
            let tail = [UInt8](try handle.readToEnd() ?? Data())
            var end = tail.count
            if tail.last != 0x0A {
                // Drop the incomplete line.
                guard let newline = tail.lastIndex(of: 0x0A) else {
                    if start == 0 { try handle.truncate(atOffset: 0); return nil }
                    window *= 4
                    continue
                }
                try handle.truncate(atOffset: start + UInt64(newline + 1))
                end = newline + 1
            }
            let body = tail[..<(end - 1)]
            let lineStart = body.lastIndex(of: 0x0A).map { $0 + 1 }
            if lineStart == nil && start > 0 {
                window *= 4
                continue
            }
            let line = body[(lineStart ?? 0)...]
            guard let id = Self.eventID(in: Array(line)) else {
                throw OutputError("the last line of \(path) is not a popsink event; use a new output file")
            }
            guard let sequence = try store.sequence(ofEventID: id) else {
                throw OutputError("the last event in \(path) (\(id)) is not in this pipeline's store; use a new output file")
            }
            return sequence
        }
    }

    /// The `"id"` of an event line; the encoder writes it first.
    static func eventID(in line: [UInt8]) -> String? {
        let prefix = Array(#"{"id":""#.utf8)
        guard line.starts(with: prefix), let close = line[prefix.count...].firstIndex(of: 0x22) else { return nil }
        return String(decoding: line[prefix.count..<close], as: UTF8.self)
    }
}

struct OutputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
