// Events of a streamed transaction are encoded as they arrive, before the
// transaction commits, so they cannot hold what only the commit knows (the
// commit LSN in the event id and the source, the commit time, the ordinal,
// the time the event was made visible). Each is staged as a *template*: the
// event with those bytes cut out at two gaps and at its start. At Stream
// Commit the staged blocks move into `event_blocks` as they are, still
// compressed, with a header that holds the missing bytes once per block;
// readers splice them back in when they decompress the block. So the commit
// of a transaction of any size costs a copy of its compressed blocks, not a
// decode and encode of each change (docs/STORE.md has the figures).
//
// An event's body is rebuilt as
//   prefix + decimal(firstOrdinal + position) + t[..<gap1] + firstGap
//     + t[gap1..<gap2] + secondGap + t[gap2...]
// where t is the template. A template frame is the event frame of
// EventBlock.swift with, in each index entry, the subtransaction id in the
// commit LSN's place and the two gaps (16 bits each) in the ordinal's.

import PostgresWire

/// What a streamed transaction's commit supplies to the event templates it staged.
public struct TemplateCompletion: Sendable, Equatable {
    public var commitLSN: LSN
    /// The ordinal of the transaction's first staged event.
    public var firstOrdinal: Int32
    /// Written at the start of each event, before its ordinal in decimal.
    public var prefix: [UInt8]
    /// Written into each template's first gap.
    public var firstGap: [UInt8]
    /// Written into each template's second gap.
    public var secondGap: [UInt8]

    public init(commitLSN: LSN, firstOrdinal: Int32, prefix: [UInt8], firstGap: [UInt8], secondGap: [UInt8]) {
        self.commitLSN = commitLSN
        self.firstOrdinal = firstOrdinal
        self.prefix = prefix
        self.firstGap = firstGap
        self.secondGap = secondGap
    }

    /// The bytes the completion adds to `count` events numbered from `firstOrdinal`.
    func addedBytes(firstOrdinal: Int64, count: Int64) -> Int64 {
        let fixed = Int64(prefix.count + firstGap.count + secondGap.count) * count
        return fixed + Self.decimalDigits(from: firstOrdinal, count: count)
    }

    /// Total decimal digits of the integers `first ..< first + count`.
    static func decimalDigits(from first: Int64, count: Int64) -> Int64 {
        var total: Int64 = 0
        var low = first
        let end = first + count
        var bound: Int64 = 10
        var digits: Int64 = 1
        while low < end {
            if low < bound {
                let high = min(end, bound)
                total += (high - low) * digits
                low = high
            }
            bound *= 10
            digits += 1
        }
        return total
    }

    /// The block header: commit LSN, first ordinal, then each of the three
    /// fills with its length, all little-endian.
    func header(firstOrdinal: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24 + prefix.count + firstGap.count + secondGap.count)
        append(commitLSN.rawValue, to: &bytes)
        append(UInt32(bitPattern: firstOrdinal), to: &bytes)
        for fill in [prefix, firstGap, secondGap] {
            append(UInt32(fill.count), to: &bytes)
            bytes += fill
        }
        return bytes
    }

    private func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// The two gaps of one event template, as offsets into it.
public struct TemplateGaps: Sendable, Equatable {
    public let first: UInt16
    public let second: UInt16

    /// Nil when the offsets do not fit the index entry or are out of order.
    public init?(first: Int, second: Int) {
        guard first >= 0, first <= second, second <= Int(UInt16.max) else { return nil }
        self.first = UInt16(first)
        self.second = UInt16(second)
    }

    init(packed: UInt32) {
        first = UInt16(truncatingIfNeeded: packed)
        second = UInt16(truncatingIfNeeded: packed >> 16)
    }

    var packed: Int32 { Int32(bitPattern: UInt32(first) | UInt32(second) << 16) }
}

/// A template block's header read back, and the expansion of its frame
/// into an ordinary event frame.
struct TemplateHeader {
    let commitLSN: LSN
    let firstOrdinal: Int32
    let prefix: UnsafeRawBufferPointer
    let firstGap: UnsafeRawBufferPointer
    let secondGap: UnsafeRawBufferPointer
    /// Where the frame starts in the stored bytes.
    let headerBytes: Int

    init?(_ stored: UnsafeRawBufferPointer) {
        guard stored.count >= 12 else { return nil }
        commitLSN = LSN(UInt64(littleEndian: stored.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
        firstOrdinal = Int32(bitPattern: UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard firstOrdinal >= 0 else { return nil }
        var offset = 12
        var fills: [UnsafeRawBufferPointer] = []
        for _ in 0..<3 {
            guard stored.count - offset >= 4 else { return nil }
            let length = Int(UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            offset += 4
            guard stored.count - offset >= length else { return nil }
            fills.append(UnsafeRawBufferPointer(rebasing: stored[offset..<offset + length]))
            offset += length
        }
        prefix = fills[0]
        firstGap = fills[1]
        secondGap = fills[2]
        headerBytes = offset
    }

    /// Writes the ordinary frame of `templates` (bodies completed, index of
    /// commit LSN, ordinal and end) into the front of `output`; returns its
    /// size, or nil when a template's gaps do not fit its body.
    func expand(_ templates: EventBlockFrame, into output: inout [UInt8]) -> Int? {
        let count = templates.count
        let perEvent = prefix.count + firstGap.count + secondGap.count + 10 + EventBlockFrame.indexEntryBytes
        let bound = templates.bytes.count + count * perEvent + 4
        if output.count < bound { output = [UInt8](repeating: 0, count: max(bound, 2 * EventBlockBuilder.targetBytes)) }
        return output.withUnsafeMutableBytes { out -> Int? in
            var at = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                guard !bytes.isEmpty else { return }
                out.baseAddress!.advanced(by: at).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                at += bytes.count
            }
            var ends: [UInt32] = []
            ends.reserveCapacity(count)
            for position in 0..<count {
                let template = templates.body(position)
                let gaps = TemplateGaps(packed: UInt32(bitPattern: templates.ordinal(position)))
                guard Int(gaps.second) <= template.count else { return nil }
                put(prefix)
                at += writeDecimal(UInt64(firstOrdinal) + UInt64(position), to: out.baseAddress!.advanced(by: at))
                put(UnsafeRawBufferPointer(rebasing: template[..<Int(gaps.first)]))
                put(firstGap)
                put(UnsafeRawBufferPointer(rebasing: template[Int(gaps.first)..<Int(gaps.second)]))
                put(secondGap)
                put(UnsafeRawBufferPointer(rebasing: template[Int(gaps.second)...]))
                guard at <= Int(UInt32.max) else { return nil }
                ends.append(UInt32(at))
            }
            for position in 0..<count {
                out.storeBytes(of: commitLSN.rawValue.littleEndian, toByteOffset: at, as: UInt64.self)
                let ordinal = UInt32(truncatingIfNeeded: Int64(firstOrdinal) + Int64(position))
                out.storeBytes(of: ordinal.littleEndian, toByteOffset: at + 8, as: UInt32.self)
                out.storeBytes(of: ends[position].littleEndian, toByteOffset: at + 12, as: UInt32.self)
                at += EventBlockFrame.indexEntryBytes
            }
            out.storeBytes(of: UInt32(count).littleEndian, toByteOffset: at, as: UInt32.self)
            return at + 4
        }
    }

    private func writeDecimal(_ value: UInt64, to destination: UnsafeMutableRawPointer) -> Int {
        var divisor: UInt64 = 1
        while divisor <= value / 10 { divisor *= 10 }
        var written = 0
        repeat {
            destination.storeBytes(
                of: UInt8(truncatingIfNeeded: 48 + value / divisor % 10), toByteOffset: written, as: UInt8.self)
            written += 1
            divisor /= 10
        } while divisor > 0
        return written
    }
}
