// The bytes of one value's text while it is converted: a view into a buffer
// the caller keeps alive for the call (a replication message, a COPY line).
//
// The converter used ArraySlice<UInt8>, and every slice it took (a date's
// year, a timestamp's offset, a field of a COPY line) retained and released
// the buffer it came from: bench/snapshot measured reference counting at 23%
// of the snapshot's CPU, more than half of its workers' time. A slice of
// an UnsafeBufferPointer holds no reference, so slicing costs nothing.

/// A borrowed view of a value's text; valid only while its buffer is.
public typealias TextBytes = Slice<UnsafeBufferPointer<UInt8>>

extension Slice where Base == UnsafeBufferPointer<UInt8> {
    /// The viewed bytes as a buffer of their own (for bulk copies).
    package var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: self) }
}
