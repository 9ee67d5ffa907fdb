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
            // Captured rows are as private as the stores (0700 directories): owner only.
            descriptor = open(path, flags, 0o600)
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

    /// The sequence the output continues after, so that it is exactly the
    /// store, in order, whenever the previous run stopped (kill -9 included).
    ///
    /// A file says where it ends: after its last complete line's event, or
    /// before the store's first event when it is new or empty (a run can die
    /// after the store's first group commit and before the file's first line;
    /// starting at the store's end would then leave those events out for good).
    /// Standard output remembers nothing: it starts after `fromSequence - 1`
    /// when given, else after the store's last sequence (new events only).
    ///
    /// - Parameter storePath: the pipeline's store, which may not exist yet.
    static func startAfter(output path: String, fromSequence: Int64?, storePath: String) throws -> Int64 {
        let store = FileManager.default.fileExists(atPath: storePath) ? try EventStoreReader(path: storePath) : nil
        defer { store?.close() }
        if path == "-" {
            if let fromSequence { return max(0, fromSequence - 1) }
            return try store?.lastSequence() ?? 0
        }
        guard let store else {
            if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size > 0 {
                throw OutputError(
                    "\(path) holds events but the pipeline has no store at \(storePath) (deleted or a new --data-dir); use a new output file"
                )
            }
            return 0
        }
        return try resumePoint(path: path, store: store) ?? 0
    }

    /// The stored sequence of the file's last complete line. A half-written
    /// last line (a crash mid-write) is cut off first. Returns nil when the
    /// file is new or empty.
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
                    if start == 0 {
                        try handle.truncate(atOffset: 0)
                        return nil
                    }
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
                if let first = try store.firstSequence(), let parsed = EventID(id),
                    let oldest = try store.events(after: first - 1, limit: 1).first,
                    parsed.commitLSN < oldest.commitLSN
                {
                    throw OutputError(
                        "the last event in \(path) (\(id)) and those after it were deleted by retention before they were written; use a new output file (events from sequence \(first) are stored)"
                    )
                }
                throw OutputError(
                    "the last event in \(path) (\(id)) is not in this pipeline's store; use a new output file")
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
