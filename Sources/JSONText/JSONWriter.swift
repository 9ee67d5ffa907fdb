// A small, fast JSON builder (RFC 8259) that appends UTF-8 to a byte buffer:
// the one JSON writer of the package. The event encoder builds whole change
// events with it, the API its responses; so it does no
// allocation beyond growing its buffer and keeps no stack of open
// containers: a value needs a comma before it exactly when something was
// written at the same level just before, which one flag tracks.
//
// The writer trusts its caller to nest begin/end and key/value correctly;
// only the contents of strings are checked (escaped and UTF-8 validated).
//
// Its domain is JSON that leaves the process (events, API answers, reports).
// Values popsink stores and reads back itself (state records, schema
// versions, backfill plans) use Codable instead: each needs a decoder
// that matches its encoder field for field, which the synthesized
// conformance gives for free and a hand-written pair would have to keep in
// step; and none is on a hot path (each is written at most once per API
// write or schema change).

/// Appends JSON text to a `[UInt8]` buffer.
public struct JSONWriter: Sendable {
    /// The JSON written so far (UTF-8).
    public internal(set) var bytes: [UInt8]
    /// Whether the next value or key needs a comma in front.
    @usableFromInline var needsComma = false

    /// A writer with room for `capacity` bytes before it grows.
    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// A writer that reuses `buffer`'s storage (its contents are dropped).
    public init(reusing buffer: [UInt8]) {
        bytes = buffer
        bytes.removeAll(keepingCapacity: true)
    }

    /// Empties the writer, keeping its capacity for the next document.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// The JSON text as a String (for tests and logs; the hot path uses `bytes`).
    public var jsonString: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Containers

    /// `{`, after a comma if a value precedes it at this level.
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// `[`, after a comma if a value precedes it at this level.
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// `]`.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// An object member's name; the next call writes its value.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// An object member's name given as UTF-8 bytes.
    public mutating func key(utf8 name: ArraySlice<UInt8>) {
        separate()
        appendQuoted(utf8: name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: Values

    /// `null`.
    public mutating func null() {
        separate()
        bytes.append(0x6E)  // null, a byte at a time: no array literal to retain
        bytes.append(0x75)
        bytes.append(0x6C)
        bytes.append(0x6C)
        needsComma = true
    }

    /// `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
        }
        needsComma = true
    }

    /// An integer in decimal, with no intermediate String.
    public mutating func integer<T: BinaryInteger>(_ value: T) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = bytes.count
        repeat {
            let (quotient, digit) = magnitude.quotientAndRemainder(dividingBy: 10)
            bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: digit))
            magnitude = quotient
        } while magnitude != 0
        bytes[start...].reverse()
        needsComma = true
    }

    /// A string, escaped.
    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    /// A string given as UTF-8 bytes, escaped; invalid UTF-8 becomes U+FFFD.
    public mutating func string(utf8 value: ArraySlice<UInt8>) {
        value.withUnsafeBufferPointer { string(utf8: $0[...]) }
    }

    /// A string given as UTF-8 bytes, escaped; invalid UTF-8 becomes U+FFFD.
    public mutating func string(utf8 value: TextBytes) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        appendEscaped(value.buffer)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A complete JSON value written as is (e.g. a json column's text, a
    /// number's digits). The caller guarantees it is valid JSON.
    public mutating func rawValue(_ json: ArraySlice<UInt8>) {
        json.withUnsafeBufferPointer { rawValue($0[...]) }
    }

    /// A complete JSON value written as is; the caller guarantees it is valid.
    public mutating func rawValue(_ json: TextBytes) {
        separate()
        bytes.append(contentsOf: json.buffer)
        needsComma = true
    }

    /// A complete JSON value written as is; the caller guarantees it is valid.
    public mutating func rawValue(_ json: String) {
        separate()
        bytes.append(contentsOf: json.utf8)
        needsComma = true
    }

    /// A string holding the standard base64 (RFC 4648 section 4) of `data`.
    public mutating func base64String(_ data: ArraySlice<UInt8>) {
        data.withUnsafeBufferPointer { base64String($0[...]) }
    }

    /// A string holding the standard base64 (RFC 4648 section 4) of `data`.
    public mutating func base64String(_ data: TextBytes) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        appendBase64(of: data.buffer)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    // MARK: Undo

    /// A position to return to with `rewind(to:)`.
    public struct Mark: Sendable {
        let count: Int
        let needsComma: Bool
    }

    /// The current position, so a value that fails half-way can be undone.
    public func mark() -> Mark { Mark(count: bytes.count, needsComma: needsComma) }

    /// Drops everything written since `mark`.
    public mutating func rewind(to mark: Mark) {
        bytes.removeSubrange(mark.count...)
        needsComma = mark.needsComma
    }

    // MARK: Pieces for the value converter

    /// Writes the comma a value at this position needs.
    @inline(__always) @usableFromInline
    package mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// Starts a string value whose content the caller appends with
    /// `appendRaw`/`appendEscaped`, then `endString()`.
    package mutating func beginString() {
        separate()
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func endString() {
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Bytes the caller knows need no escaping (ASCII digits, letters, ...).
    @inline(__always)
    package mutating func appendRaw(_ raw: TextBytes) {
        bytes.append(contentsOf: raw.buffer)
    }

    @inline(__always)
    package mutating func appendRaw(_ byte: UInt8) {
        bytes.append(byte)
    }
}
