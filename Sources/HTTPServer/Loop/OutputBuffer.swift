// Bytes queued for one connection: a queue of segments so a large body is sent
// from the handler's own array instead of being copied, while small pieces (a head,
// a short body, an event) are coalesced into one `send`.

struct OutputBuffer {
    private var segments: [[UInt8]] = []
    private var head = 0
    /// Bytes of `segments[0]` already sent.
    private var offset = 0
    private(set) var count = 0

    private static let coalesceLimit = 16 * 1024

    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        count += bytes.count
        if segments.count > head, bytes.count < Self.coalesceLimit,
            segments[segments.count - 1].count < Self.coalesceLimit
        {
            segments[segments.count - 1].append(contentsOf: bytes)
        } else {
            segments.append(bytes)
        }
    }

    /// Calls `body` with the unsent part of the first segment; it returns how much it sent.
    mutating func sendFirst(_ body: (UnsafeRawBufferPointer) -> Int) {
        guard head < segments.count else { return }
        let sent = segments[head].withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        count -= sent
        offset += sent
        if offset == segments[head].count {
            head += 1
            offset = 0
            if head == segments.count {
                segments.removeAll(keepingCapacity: segments.count <= 8)
                head = 0
            } else if head >= 32 {
                segments.removeFirst(head)
                head = 0
            }
        }
    }
}
