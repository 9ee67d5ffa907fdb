// How a block's frame is stored: LZ4 (liblz4), or as it is when LZ4 would not
// make it smaller. LZ4 rather than zstd: at 64 KiB blocks it took about half
// of zstd level 1's CPU to write and a third to read, for a store of about a
// quarter of the JSON it holds instead of a seventh (docs/STORE.md).

import CLZ4

/// The `codec` column of `event_blocks`.
enum BlockCodec: Int64 {
    case raw = 0
    case lz4 = 1

    /// Compresses `frame` into the front of `output` (grown when too small,
    /// then reused) and returns how many bytes it wrote; nil when LZ4 does not
    /// shrink the frame, which is then stored as it is.
    static func compress(_ frame: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Int? {
        guard frame.count > 64, frame.count <= Int(LZ4_MAX_INPUT_SIZE), let source = frame.baseAddress else {
            return nil
        }
        let bound = Int(LZ4_compressBound(Int32(frame.count)))
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let written = output.withUnsafeMutableBytes { destination in
            LZ4_compress_default(
                source.assumingMemoryBound(to: CChar.self),
                destination.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(frame.count), Int32(bound))
        }
        return written > 0 && Int(written) < frame.count ? Int(written) : nil
    }

    /// Restores a frame of `rawBytes` bytes into the front of `output` (grown
    /// when too small, then reused); false when the stored bytes do not decode
    /// to exactly that size.
    static func decompress(_ stored: UnsafeRawBufferPointer, rawBytes: Int, into output: inout [UInt8]) -> Bool {
        guard rawBytes > 0, rawBytes <= Int(LZ4_MAX_INPUT_SIZE), let source = stored.baseAddress else { return false }
        if output.count < rawBytes {
            output = [UInt8](repeating: 0, count: max(rawBytes, EventBlockBuilder.targetBytes))
        }
        let read = output.withUnsafeMutableBytes { destination in
            LZ4_decompress_safe(
                source.assumingMemoryBound(to: CChar.self),
                destination.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(stored.count), Int32(rawBytes))
        }
        return Int(read) == rawBytes
    }
}
