// Pre-encoded pieces for writers that emit the same shape millions of times
// (the change event envelope): member names encoded once, runs of members
// cached per table or transaction, and digits written without a String.
// bench/stream measured the envelope's fixed parts at over a quarter of the
// pipeline's CPU when written key by key. Pieces are appended through their
// buffer pointer: `append(contentsOf:)` with the array itself retained and
// released it, 5% of the snapshot's CPU (bench/snapshot profile).

extension JSONWriter {
    /// `"name":`, escaped, for `key(encoded:)`.
    public static func encodedKey(_ name: String) -> [UInt8] {
        var writer = JSONWriter(capacity: name.utf8.count + 4)
        writer.key(name)
        return writer.bytes
    }

    /// An object member's name pre-encoded by `encodedKey(_:)`.
    public mutating func key(encoded: [UInt8]) {
        separate()
        encoded.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
        needsComma = false
    }

    /// JSON text appended as it is, with no separator: the caller has built
    /// it and knows it is valid here. `endsValue` says whether it completes a
    /// value (so the next value needs a comma).
    public mutating func fragment(_ json: [UInt8], endsValue: Bool) {
        json.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
        needsComma = endsValue
    }

    /// The decimal digits of `value`, appended as they are (inside a fragment).
    public mutating func fragmentDigits(_ value: UInt64) {
        var digits: (UInt64, Int) = (value, 0)
        let start = bytes.count
        repeat {
            bytes.append(UInt8(truncatingIfNeeded: 48 + digits.0 % 10))
            digits.0 /= 10
            digits.1 += 1
        } while digits.0 != 0
        bytes[start...].reverse()
    }

    /// The upper-case hexadecimal digits of `value` with no leading zeros,
    /// appended as they are (the halves of an LSN's `X/Y` form).
    public mutating func fragmentHex(_ value: UInt32) {
        var shift = 28
        while shift > 0 && (value >> UInt32(shift)) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: (value >> UInt32(shift)) & 0xF)
            bytes.append(nibble < 10 ? 48 + nibble : 55 + nibble)
            shift -= 4
        }
    }
}
