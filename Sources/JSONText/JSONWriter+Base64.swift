// Base64 (RFC 4648 section 4, standard alphabet, with padding, no line
// breaks) straight into the writer's buffer: bytea values become base64
// strings (DESIGN section 5), and they can be large.

extension JSONWriter {
    private static let base64Alphabet: StaticString =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// Appends the base64 text of `data` (no quotes).
    package mutating func appendBase64(of data: UnsafeBufferPointer<UInt8>) {
        let count = data.count
        guard count > 0 else { return }
        let outputCount = (count + 2) / 3 * 4
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: outputCount))
        Self.base64Alphabet.withUTF8Buffer { alphabet in
            bytes.withUnsafeMutableBufferPointer { buffer in
                let output = UnsafeMutableBufferPointer(rebasing: buffer[start...])
                var input = 0
                var out = 0
                while count - input >= 3 {
                    let chunk = UInt32(data[input]) << 16 | UInt32(data[input + 1]) << 8 | UInt32(data[input + 2])
                    output[out] = alphabet[Int(chunk >> 18)]
                    output[out + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                    output[out + 2] = alphabet[Int(chunk >> 6 & 0x3F)]
                    output[out + 3] = alphabet[Int(chunk & 0x3F)]
                    input += 3
                    out += 4
                }
                let left = count - input
                if left > 0 {
                    let chunk = UInt32(data[input]) << 16 | (left == 2 ? UInt32(data[input + 1]) << 8 : 0)
                    output[out] = alphabet[Int(chunk >> 18)]
                    output[out + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                    output[out + 2] = left == 2 ? alphabet[Int(chunk >> 6 & 0x3F)] : UInt8(ascii: "=")
                    output[out + 3] = UInt8(ascii: "=")
                }
            }
        }
    }
}
