// Columns a pipeline leaves out of its events or masks, chosen by
// `schema.table.column` globs, so a sensitive value never reaches the store,
// the API or a sink. The masks:
//   - `hash`: HMAC-SHA-256 (RFC 2104) under a pipeline secret, of the value's
//     Postgres text form: equal values give equal hashes, in the load and in
//     the stream, so masked columns still join, and without the key a hash
//     cannot be reversed by hashing guesses;
//   - `redact`: the fixed string `ColumnMask.placeholder`, whatever the type;
//   - `truncate`: the first N characters (Unicode code points, as Postgres's
//     `left(value, N)` counts them; a UTF-8 sequence is never split) of the
//     value's text form. Text-like columns keep their type; any other type
//     (a number, a timestamp, json, an array, bytea) is cut in its Postgres
//     text form and sent as a string, typed `text` like a hashed column, so
//     the rule can never send more than N characters of it.
// Null stays null under every mask.
//
// Patterns name `schema.table.column` when they hold two dots,
// `table.column` with one, and a column of any table with none (the
// convention of `TableFilter`'s table patterns). When several rules name a
// column the most protective wins: exclude, redact, hash, truncate (the
// shortest length), keep.
//
// `new_columns: exclude` protects a table that has rules from a column added
// later: a column the table's newest schema version does not carry (as
// delivered) is excluded until a rule names it, `keep` included. The
// registry knows which columns were delivered, so this is decided where a
// relation is resolved against it (`SchemaRegistry+NewColumns`).

import COpenSSL

/// Which columns are left out or masked, and the hash key.
public struct ColumnMask: Sendable, Equatable {
    public var exclude: [String]
    public var hash: [String]
    public var redact: [String]
    /// Pattern → the number of characters kept.
    public var truncate: [String: Int]
    /// Columns kept as they are: a rule that names a column, so that
    /// `new_columns: exclude` lets it through.
    public var keep: [String]
    public var newColumns: NewColumns
    /// The HMAC key: a pipeline secret.
    public var hashKey: String

    /// The value of every redacted column.
    public static let placeholder = "[redacted]"

    /// What happens to a column of a table that has rules when a later
    /// schema version adds it and no rule names it.
    public enum NewColumns: String, Sendable, Equatable, Codable {
        case include, exclude
    }

    public init(
        exclude: [String] = [], hash: [String] = [], redact: [String] = [], truncate: [String: Int] = [:],
        keep: [String] = [], newColumns: NewColumns = .include, hashKey: String
    ) {
        self.exclude = exclude
        self.hash = hash
        self.redact = redact
        self.truncate = truncate
        self.keep = keep
        self.newColumns = newColumns
        self.hashKey = hashKey
    }

    /// What happens to one column.
    public enum Action: Sendable, Equatable {
        case keep, exclude, hash, redact
        /// The first N characters.
        case truncate(Int)
    }

    public func action(schema: String, table: String, column: String) -> Action {
        let name = ColumnName(schema: schema, table: table, column: column)
        if name.isNamed(by: exclude) { return .exclude }
        if name.isNamed(by: redact) { return .redact }
        if name.isNamed(by: hash) { return .hash }
        if let length = truncate.filter({ name.isNamed(by: [$0.key]) }).values.min() { return .truncate(length) }
        return .keep
    }

    /// Whether any rule, `keep` included, names the column.
    public func names(schema: String, table: String, column: String) -> Bool {
        ColumnName(schema: schema, table: table, column: column).isNamed(by: allPatterns)
    }

    /// Whether some rule could name a column of the table: a pattern without
    /// a dot names columns of every table, one with dots those of the tables
    /// its part before the last dot matches.
    public func hasRules(schema: String, table: String) -> Bool {
        allPatterns.contains { pattern in
            guard let dot = pattern.lastIndex(of: ".") else { return true }
            let tablePart = String(pattern[..<dot])
            let qualified = tablePart.contains(".") ? schema + "." + table : table
            return Glob(tablePart).matches(qualified)
        }
    }

    private var allPatterns: [String] { exclude + redact + hash + Array(truncate.keys) + keep }

    /// The actions on a table's columns, in column order; nil when every
    /// column is kept and new columns are not held back.
    func table(schema: String, table: String, columns: [String]) -> Table? {
        let actions = columns.map { action(schema: schema, table: table, column: $0) }
        let holdsBackNew = newColumns == .exclude && hasRules(schema: schema, table: table)
        guard holdsBackNew || actions.contains(where: { $0 != .keep }) else { return nil }
        return Table(
            actions: actions, columns: columns,
            named: holdsBackNew ? columns.map { names(schema: schema, table: table, column: $0) } : nil,
            key: HMACKey(Array(hashKey.utf8)))
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
        let columns: [String]
        /// With `new_columns: exclude`, whether a rule names each column; nil otherwise.
        let named: [Bool]?
        /// Columns excluded because they are new and no rule names them.
        let heldBack: Set<Int>
        let excluded: [String]
        let hashed: [String]
        let redacted: [String]
        let truncated: [(column: String, length: Int)]
        let key: HMACKey

        init(actions: [Action], columns: [String], named: [Bool]?, heldBack: Set<Int> = [], key: HMACKey) {
            self.actions = actions
            self.columns = columns
            self.named = named
            self.heldBack = heldBack
            excluded = zip(columns, actions).filter { $0.1 == .exclude }.map(\.0)
            hashed = zip(columns, actions).filter { $0.1 == .hash }.map(\.0)
            redacted = zip(columns, actions).filter { $0.1 == .redact }.map(\.0)
            truncated = zip(columns, actions).compactMap { column, action in
                if case .truncate(let length) = action { (column, length) } else { nil }
            }
            self.key = key
        }

        func action(_ index: Int) -> Action { index < actions.count ? actions[index] : .exclude }

        /// This table with the columns `known` does not hold, and no rule
        /// names, excluded; itself without `new_columns: exclude`.
        func holdingBack(unless known: Set<String>) -> Table {
            guard let named else { return self }
            let held = Set(columns.indices.filter { !named[$0] && !known.contains(columns[$0]) })
            guard held != heldBack else { return self }
            var actions = actions
            for index in columns.indices {
                actions[index] = held.contains(index) ? .exclude : (heldBack.contains(index) ? .keep : actions[index])
            }
            return Table(actions: actions, columns: columns, named: named, heldBack: held, key: key)
        }
    }
}

/// A column's qualified name, matched against one-, two- and three-part patterns.
private struct ColumnName {
    let schema: String
    let table: String
    let column: String

    func isNamed(by patterns: [String]) -> Bool {
        patterns.contains { pattern in
            switch pattern.utf8.count(where: { $0 == UInt8(ascii: ".") }) {
            case 0: Glob(pattern).matches(column)
            case 1: Glob(pattern).matches(table + "." + column)
            default: Glob(pattern).matches(schema + "." + table + "." + column)
            }
        }
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

/// The rules as the state store keeps them; fields added since the first
/// version are optional, so older records decode unchanged.
extension ColumnMask: Codable {
    private enum CodingKeys: String, CodingKey {
        case exclude, hash, redact, truncate, keep
        case newColumns = "new_columns"
        case hashKey = "hash_key"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            exclude: try container.decodeIfPresent([String].self, forKey: .exclude) ?? [],
            hash: try container.decodeIfPresent([String].self, forKey: .hash) ?? [],
            redact: try container.decodeIfPresent([String].self, forKey: .redact) ?? [],
            truncate: try container.decodeIfPresent([String: Int].self, forKey: .truncate) ?? [:],
            keep: try container.decodeIfPresent([String].self, forKey: .keep) ?? [],
            newColumns: try container.decodeIfPresent(NewColumns.self, forKey: .newColumns) ?? .include,
            hashKey: try container.decode(String.self, forKey: .hashKey))
    }
}
