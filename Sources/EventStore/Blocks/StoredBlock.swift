// A block as a row of `event_blocks` holds it: the frame, maybe compressed,
// maybe a streamed transaction's templates behind a header that completes
// them (EventTemplate.swift), with its raw size and the sequences it covers.
// A template block moved at Stream Commit by reference holds only the header;
// its frame is the row of `block_frames` that staging wrote.
// Turning the row back into a frame is shared by the readers and by
// retention, which rewrites the block it cuts through.

/// The buffers a reader decompresses and expands blocks into, reused from block to block.
struct BlockScratch {
    var decompressed: [UInt8] = []
    var expanded: [UInt8] = []
}

enum StoredBlock {
    /// `codec` values of a template block: the frame's own codec plus this.
    static let templateCodecOffset: Int64 = 2

    /// Runs `body` with the frame `stored` holds, decompressing (and, for a
    /// template block, completing) it into `scratch` when needed; nil when
    /// the bytes do not decode to a frame (of exactly `eventCount` entries,
    /// when given). `referenced`: the frame of a template block whose
    /// `stored` bytes are only its header.
    static func withFrame<R>(
        codec: Int64, rawBytes: Int64, stored: UnsafeRawBufferPointer, referenced: UnsafeRawBufferPointer?,
        eventCount: Int64?, scratch: inout BlockScratch, _ body: (EventBlockFrame) -> R
    ) -> R? {
        guard codec >= templateCodecOffset else {
            guard referenced == nil else { return nil }
            return withPlainFrame(
                codec: codec, rawBytes: rawBytes, stored: stored, eventCount: eventCount,
                scratch: &scratch.decompressed, body)
        }
        guard let header = TemplateHeader(stored) else { return nil }
        if referenced != nil && header.headerBytes != stored.count { return nil }
        let frame = referenced ?? UnsafeRawBufferPointer(rebasing: stored[header.headerBytes...])
        var expanded = scratch.expanded
        defer { scratch.expanded = expanded }
        // The frame's own buffer must not be the one expanded into.
        scratch.expanded = []
        let size = withPlainFrame(
            codec: codec - templateCodecOffset, rawBytes: rawBytes, stored: frame, eventCount: eventCount,
            scratch: &scratch.decompressed
        ) { templates in header.expand(templates, into: &expanded) }
        guard let size, let size else { return nil }
        return expanded.withUnsafeBytes { bytes in
            withValidFrame(UnsafeRawBufferPointer(rebasing: bytes[..<size]), eventCount: eventCount, body)
        }
    }

    private static func withPlainFrame<R>(
        codec: Int64, rawBytes: Int64, stored: UnsafeRawBufferPointer, eventCount: Int64?, scratch: inout [UInt8],
        _ body: (EventBlockFrame) -> R
    ) -> R? {
        switch BlockCodec(rawValue: codec) {
        case .raw?:
            guard Int64(stored.count) == rawBytes else { return nil }
            return withValidFrame(stored, eventCount: eventCount, body)
        case .lz4?:
            guard rawBytes > 0, rawBytes <= Int64(Int32.max),
                BlockCodec.decompress(stored, rawBytes: Int(rawBytes), into: &scratch)
            else { return nil }
            return scratch.withUnsafeBytes { bytes in
                withValidFrame(UnsafeRawBufferPointer(rebasing: bytes[..<Int(rawBytes)]), eventCount: eventCount, body)
            }
        case nil:
            return nil
        }
    }

    private static func withValidFrame<R>(
        _ bytes: UnsafeRawBufferPointer, eventCount: Int64?, _ body: (EventBlockFrame) -> R
    ) -> R? {
        guard let frame = EventBlockFrame(bytes), eventCount.map({ Int64(frame.count) == $0 }) ?? true else {
            return nil
        }
        return body(frame)
    }
}
