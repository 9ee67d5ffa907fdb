// Columns a pipeline leaves out of its events or replaces by a keyed hash,
// chosen by `schema.table.column` globs, so a sensitive value never reaches
// the store, the API or a sink. The hash is HMAC-SHA-256 (RFC 2104) under a
// pipeline secret, of the value's Postgres text form: equal values give equal
// hashes, in the load and in the stream, so masked columns still join, and
// without the key a hash cannot be reversed by hashing guesses.
//
// Patterns name `schema.table.column` when they hold two dots,
// `table.column` with one, and a column of any table with none (the
// convention of `TableFilter`'s table patterns). Excluding wins over hashing.

import COpenSSL

/// Which columns are left out (`exclude`) or hashed (`hash`), and the hash key.
public struct ColumnMask: Sendable, Equatable {
    public var exclude: [String]
    public var hash: [String]
    /// The HMAC key: a pipeline secret.
    public var hashKey: String

    public init(exclude: [String] = [], hash: [String] = [], hashKey: String) {
        self.exclude = exclude
        self.hash = hash
        self.hashKey = hashKey
    }

    /// What happens to one column.
    public enum Action: String, Sendable, Equatable {
        case keep, exclude, hash
    }

    public func action(schema: String, table: String, column: String) -> Action {
        func matches(_ patterns: [String]) -> Bool {
            patterns.contains { pattern in
                switch pattern.utf8.count(where: { $0 == UInt8(ascii: ".") }) {
                case 0: Glob(pattern).matches(column)
                case 1: Glob(pattern).matches(table + "." + column)
                default: Glob(pattern).matches(schema + "." + table + "." + column)
                }
            }
        }
        if matches(exclude) { return .exclude }
        if matches(hash) { return .hash }
        return .keep
    }

    /// The actions on a table's columns, in column order; nil when every column is kept.
    func table(schema: String, table: String, columns: [String]) -> Table? {
        let actions = columns.map { action(schema: schema, table: table, column: $0) }
        guard actions.contains(where: { $0 != .keep }) else { return nil }
        return Table(actions: actions, columns: columns, key: HMACKey(Array(hashKey.utf8)))
    }

    /// A new random hash key: 32 bytes from OpenSSL's CSPRNG, hex.
    public static func generateKey() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        precondition(RAND_bytes(&bytes, 32) == 1, "the system's random generator failed")
        return Hex.string(bytes)
    }

    /// The masking of one table's columns, resolved once per relation.
    final class Table: Sendable {
        /// One per column, in the relation's order.
        let actions: [Action]
        let excluded: [String]
        let hashed: [String]
        let key: HMACKey

        init(actions: [Action], columns: [String], key: HMACKey) {
            self.actions = actions
            excluded = zip(columns, actions).filter { $0.1 == .exclude }.map(\.0)
            hashed = zip(columns, actions).filter { $0.1 == .hash }.map(\.0)
            self.key = key
        }

        func action(_ index: Int) -> Action { index < actions.count ? actions[index] : .exclude }
    }
}

/// An HMAC-SHA-256 key.
final class HMACKey: Sendable {
    private let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The lower-case hex HMAC-SHA-256 of `message`, as UTF-8 bytes.
    func hexDigest(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        var length = 0
        // One-shot and thread-safe: the snapshot's workers hash concurrently.
        let done = bytes.withUnsafeBytes { key in
            mac.withUnsafeMutableBytes { out in
                EVP_Q_mac(
                    nil, "HMAC", nil, "SHA256", nil, key.baseAddress, key.count, message.baseAddress, message.count,
                    out.baseAddress, out.count, &length)
            }
        }
        precondition(done != nil && length == 32, "OpenSSL's HMAC-SHA-256 failed")
        return Hex.bytes(mac)
    }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func bytes(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 2)
        for byte in data {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    static func string(_ data: [UInt8]) -> String { String(decoding: bytes(data), as: UTF8.self) }
}

extension ColumnMask: Codable {
    private enum CodingKeys: String, CodingKey {
        case exclude, hash
        case hashKey = "hash_key"
    }
}
