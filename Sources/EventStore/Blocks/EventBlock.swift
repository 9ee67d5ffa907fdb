// A block: a run of consecutive events of one group stored as one row, framed
// so that one event is found without parsing the others. The bodies come
// first, back to back; then an index of 16 bytes per event (commit LSN,
// ordinal, end offset of its body); then the event count. Putting the index
// last lets the writer append bodies as they arrive and add the index at the
// end, in one buffer. All integers little-endian.
//
// Why blocks: one row per event cost SQLite about 2 µs of CPU per event (a
// B-tree insert and a WAL frame share each), which made the store the serial
// stage of a load. docs/STORE.md has the figures that chose this layout.

import PostgresWire

/// The bytes of one block being built, reused from block to block.
struct EventBlockBuilder {
    /// A block is written once its frame reaches this many bytes; a block
    /// holds at least one event, so one larger event makes a block of its own.
    static let targetBytes = 64 << 10

    private(set) var bodies: [UInt8] = []
    private var index: [UInt8] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { bodies.count + index.count + 4 >= Self.targetBytes }

    mutating func add(commitLSN: LSN, ordinal: Int32, body: UnsafeRawBufferPointer) {
        bodies.append(contentsOf: body)
        appendLittleEndian(commitLSN.rawValue, to: &index)
        appendLittleEndian(UInt32(bitPattern: ordinal), to: &index)
        appendLittleEndian(UInt32(truncatingIfNeeded: bodies.count), to: &index)
        count += 1
    }

    /// The finished frame: bodies, index, count. Leaves the builder empty
    /// (capacity kept) once `body` returns.
    mutating func withFrame<R>(_ body: (UnsafeRawBufferPointer) throws(EventStoreError) -> R) throws(EventStoreError)
        -> R
    {
        defer { removeAll() }
        bodies.append(contentsOf: index)
        appendLittleEndian(UInt32(truncatingIfNeeded: count), to: &bodies)
        return try bodies.withUnsafeBytes { bytes in
            Result { () throws(EventStoreError) in try body(bytes) }
        }.get()
    }

    /// The entries added so far, in order.
    func forEachEntry(_ visit: (_ commitLSN: LSN, _ ordinal: Int32, _ body: UnsafeRawBufferPointer) -> Void) {
        index.withUnsafeBytes { index in
            bodies.withUnsafeBytes { bodies in
                var start = 0
                for entry in 0..<count {
                    let offset = entry * EventBlockFrame.indexEntryBytes
                    let end = Int(index.loadLittleEndianUInt32(at: offset + 12))
                    visit(
                        LSN(index.loadLittleEndianUInt64(at: offset)),
                        Int32(bitPattern: index.loadLittleEndianUInt32(at: offset + 8)),
                        UnsafeRawBufferPointer(rebasing: bodies[start..<end]))
                    start = end
                }
            }
        }
    }

    mutating func removeAll() {
        bodies.removeAll(keepingCapacity: true)
        index.removeAll(keepingCapacity: true)
        count = 0
    }
}

/// A frame read back: the events of one block, found through its index.
struct EventBlockFrame {
    static let indexEntryBytes = 16

    let bytes: UnsafeRawBufferPointer
    let count: Int
    private let indexStart: Int

    /// Nil when the bytes are not a well-formed frame (the caller reports the
    /// block as corrupt): the count, the index and every offset must fit.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 4 else { return nil }
        let count = Int(bytes.loadLittleEndianUInt32(at: bytes.count - 4))
        let indexBytes = count.multipliedReportingOverflow(by: Self.indexEntryBytes)
        guard count > 0, !indexBytes.overflow, indexBytes.partialValue <= bytes.count - 4 else { return nil }
        self.bytes = bytes
        self.count = count
        indexStart = bytes.count - 4 - indexBytes.partialValue
        var previousEnd = 0
        for position in 0..<count {
            let end = endOffset(position)
            guard end >= previousEnd, end <= indexStart else { return nil }
            previousEnd = end
        }
        guard previousEnd == indexStart else { return nil }
    }

    func commitLSN(_ position: Int) -> LSN {
        LSN(bytes.loadLittleEndianUInt64(at: indexStart + position * Self.indexEntryBytes))
    }

    func ordinal(_ position: Int) -> Int32 {
        Int32(bitPattern: bytes.loadLittleEndianUInt32(at: indexStart + position * Self.indexEntryBytes + 8))
    }

    func body(_ position: Int) -> UnsafeRawBufferPointer {
        let start = position == 0 ? 0 : endOffset(position - 1)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<endOffset(position)])
    }

    private func endOffset(_ position: Int) -> Int {
        Int(bytes.loadLittleEndianUInt32(at: indexStart + position * Self.indexEntryBytes + 12))
    }
}

private func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

extension UnsafeRawBufferPointer {
    fileprivate func loadLittleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    fileprivate func loadLittleEndianUInt64(at offset: Int) -> UInt64 {
        UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
