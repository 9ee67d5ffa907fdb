// A block as a row of `event_blocks` holds it: the frame, maybe compressed,
// with its raw size and the sequences it covers. Turning the row back into a
// frame is shared by the readers and by retention, which rewrites the block
// it cuts through.

enum StoredBlock {
    /// Runs `body` with the frame `stored` holds, decompressing it into
    /// `scratch` when needed; nil when the bytes do not decode to a frame (of
    /// exactly `eventCount` entries, when given).
    static func withFrame<R>(
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
