// A sink's durable position: the store sequence up to which every event is
// in the target. A small file beside the pipeline's store, replaced
// atomically (write, fsync, rename, fsync the directory), so the sink never
// touches the store's writer connection. For JetStream and Kafka it is a
// floor under what reading the target back says; for a webhook it is the
// whole truth.

import EventStore

#if canImport(Glibc)
    import Glibc
#endif

/// Where a sink has delivered up to.
public struct SinkPosition: Sendable, Hashable {
    /// Every event with a sequence up to this one is in the target; 0 for none.
    public var sequence: Int64
    /// The id of the event at `sequence`, nil at 0.
    public var eventID: EventID?

    public init(sequence: Int64, eventID: EventID?) {
        self.sequence = sequence
        self.eventID = eventID
    }

    public static let start = SinkPosition(sequence: 0, eventID: nil)
}

/// Reads and replaces one position file.
public struct SinkPositionFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The position saved last, nil when none was (no file).
    public func load() throws(SinkError) -> SinkPosition? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SinkError(.store, "cannot open the sink position file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(fd, &buffer, buffer.count)
        let text = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let first = fields.first, let sequence = Int64(first), sequence >= 0 else {
            throw SinkError(
                .store,
                "the sink position file \(path) does not hold a position ('\(text)'); remove it to resume from what the target holds",
                retryable: false)
        }
        return SinkPosition(sequence: sequence, eventID: fields.count > 1 ? EventID(String(fields[1])) : nil)
    }

    /// Replaces the file with `position`, durably.
    public func save(_ position: SinkPosition) throws(SinkError) {
        let temporary = path + ".tmp"
        let text = "\(position.sequence) \(position.eventID?.description ?? "-")\n"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("create", temporary) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            let error = failure("write", temporary)
            close(fd)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure("rename", path) }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dirfd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    private func failure(_ action: String, _ file: String) -> SinkError {
        SinkError(.store, "cannot \(action) the sink position file \(file): \(String(cString: strerror(errno)))")
    }
}
