// A backfill's condition: the user's SQL boolean expression over a table's
// columns (`created_at > '2026-01-01'`), read into the backfill's piece
// queries as `WHERE <page range> AND (<condition>)`.
//
// It is SQL text by design (the user's own SQL against their own database,
// run with the pipeline's role), so it is checked twice before it is
// accepted, and runs where it can change nothing:
// 1. lexically, here: one expression that stays inside the parentheses it
//    is put in. Its own parentheses balance and never close one it did not
//    open, outside string literals, quoted identifiers and dollar quotes;
//    no `;` and no comment (which could hide the rest of the query). So the
//    text cannot end the WHERE clause and add a `UNION` or a second statement.
// 2. by Postgres: `EXPLAIN SELECT 1 FROM <table> WHERE (<condition>)`, in a
//    read-only transaction, parses and plans it against the table without
//    running it; what Postgres refuses comes back with its SQLSTATE.
// The piece queries run in read-only transactions too. What remains is what
// the role may read: a subquery can look at another table the role can
// SELECT. The README tells users to grant the role SELECT on the captured
// tables only, and the API token only to people trusted with that.

import PostgresReplication

public enum BackfillCondition {
    /// A condition that failed a check: on which table, why, and the
    /// SQLSTATE when Postgres refused it.
    public struct Refusal: Error, Sendable, Equatable {
        public let table: String
        public let message: String
        public let sqlState: String?
    }

    /// Why `text` is not one self-contained expression, or nil when it is.
    public static func lexicalProblem(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            return "the condition is empty"
        }
        // libpq would end the query text there, quoted or not.
        if bytes.contains(0) { return "a NUL character is not allowed" }
        var depth = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            switch byte {
            case UInt8(ascii: "'"):
                // E'…' strings take backslash escapes; others only ''.
                let escapes =
                    index > 0 && (bytes[index - 1] | 0x20) == UInt8(ascii: "e")
                    && (index < 2 || !isIdentifierByte(bytes[index - 2]))
                guard let end = closing(UInt8(ascii: "'"), in: bytes, after: index, backslash: escapes) else {
                    return "a string literal is not closed"
                }
                index = end
            case UInt8(ascii: "\""):
                guard let end = closing(UInt8(ascii: "\""), in: bytes, after: index, backslash: false) else {
                    return "a quoted identifier is not closed"
                }
                index = end
            case UInt8(ascii: "$"):
                if let end = try? dollarQuoteEnd(in: bytes, at: index) {
                    guard let end else { return "a dollar-quoted string is not closed" }
                    index = end
                }
            case UInt8(ascii: "("):
                depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth < 0 { return "a ')' closes a parenthesis the condition did not open" }
            case UInt8(ascii: ";"):
                return "a ';' is not allowed: the condition is one expression"
            case UInt8(ascii: "-") where next == UInt8(ascii: "-"),
                UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                return "comments are not allowed in a condition"
            default:
                break
            }
            index += 1
        }
        return depth == 0 ? nil : "a '(' is not closed"
    }

    /// Checks `conditions` (by `schema.table`) with Postgres, on a connection
    /// of its own; the refusal of the first one it rejects, or nil. Throws
    /// when Postgres cannot be reached (no SQLSTATE, or class 08).
    public static func check(
        _ conditions: [String: String], source: ConnectionSettings, timeout: Duration? = .seconds(60)
    ) throws -> Refusal? {
        for (table, condition) in conditions.sorted(by: { $0.key < $1.key }) {
            if let problem = lexicalProblem(condition) {
                return Refusal(table: table, message: problem, sqlState: nil)
            }
        }
        guard !conditions.isEmpty else { return nil }
        let connection = try PostgresConnection(
            settings: source, mode: .sql, applicationName: "popsink-pg backfill check")
        connection.queryTimeout = timeout
        for (table, condition) in conditions.sorted(by: { $0.key < $1.key }) {
            do throws(PostgresError) {
                try connection.query("BEGIN TRANSACTION READ ONLY")
                defer { _ = try? connection.query("ROLLBACK") }
                _ = try connection.query("EXPLAIN SELECT 1 FROM \(qualified(table)) WHERE (\(condition))")
            } catch {
                guard let sqlState = error.sqlState, !sqlState.hasPrefix("08") else { throw error }
                return Refusal(table: table, message: error.message, sqlState: sqlState)
            }
        }
        return nil
    }

    /// `"schema"."table"` of a `schema.table` name (split at its first dot).
    static func qualified(_ name: String) -> String {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        return parts.map(PostgresConnection.quoteIdentifier).joined(separator: ".")
    }

    /// The index of the quote that closes the one at `start`.
    private static func closing(_ quote: UInt8, in bytes: [UInt8], after start: Int, backslash: Bool) -> Int? {
        var index = start + 1
        while index < bytes.count {
            if backslash, bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if bytes[index] == quote {
                // A doubled quote is one quote character inside.
                if index + 1 < bytes.count, bytes[index + 1] == quote {
                    index += 2
                    continue
                }
                return index
            }
            index += 1
        }
        return nil
    }

    private struct NotADollarQuote: Error {}

    /// For a `$tag$` opening at `start`: the index of the last `$` of its
    /// closing tag, or nil when it does not close. Throws when the `$` opens
    /// no dollar quote (a parameter like `$1`, or part of an identifier).
    private static func dollarQuoteEnd(in bytes: [UInt8], at start: Int) throws -> Int?? {
        if start > 0, isIdentifierByte(bytes[start - 1]) { throw NotADollarQuote() }
        var index = start + 1
        while index < bytes.count, bytes[index] != UInt8(ascii: "$") {
            let byte = bytes[index]
            // A tag is an identifier without a leading digit.
            guard isIdentifierByte(byte), !(index == start + 1 && byte >= 0x30 && byte <= 0x39) else {
                throw NotADollarQuote()
            }
            index += 1
        }
        guard index < bytes.count else { throw NotADollarQuote() }
        let tag = Array(bytes[start...index])
        var search = index + 1
        while search + tag.count <= bytes.count {
            if Array(bytes[search..<(search + tag.count)]) == tag { return .some(search + tag.count - 1) }
            search += 1
        }
        return .some(nil)
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) || byte == 0x5F
            || byte >= 0x80
    }
}
