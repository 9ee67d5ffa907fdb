// The signature a webhook receiver checks: HMAC-SHA-256 (RFC 2104) with the
// sink's secret over `<timestamp>.<body>`, hex-encoded, sent as
// `Popsink-Signature: v1=<hex>` beside `Popsink-Timestamp: <unix seconds>`.
// Signing the timestamp lets a receiver refuse replays older than it allows.

import COpenSSLCrypto

enum WebhookSignature {
    /// `v1=<hex HMAC-SHA-256 of "<timestamp>.<body>">`.
    static func header(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        "v1=" + hex(hmacSHA256(key: Array(secret.utf8), message: Array("\(timestamp).".utf8) + body))
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBytes { key in
            message.withUnsafeBytes { message in
                _ = HMAC(
                    EVP_sha256(), key.baseAddress, Int32(key.count),
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, &digest, &length)
            }
        }
        return digest
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
