// Names as SQL and as prose: quoted for the remediation SQL users paste, bare
// where that reads unambiguously in a sentence.

import PostgresReplication

enum SQLText {
    /// `"name"`, safe for any name (quotes, capitals, spaces).
    static func identifier(_ name: String) -> String {
        PostgresConnection.quoteIdentifier(name)
    }

    /// `"schema"."table"`.
    static func qualified(_ schema: String, _ name: String) -> String {
        identifier(schema) + "." + identifier(name)
    }

    static func literal(_ text: String) -> String {
        PostgresConnection.quoteLiteral(text)
    }

    /// `public.orders`, quoting only the parts that would be misread unquoted
    /// (capitals, spaces, quotes, dots).
    static func display(_ schema: String, _ name: String) -> String {
        displayName(schema) + "." + displayName(name)
    }

    static func displayName(_ name: String) -> String {
        func isLower(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || byte == 0x5F }
        func isDigitOrDollar(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) || byte == 0x24 }
        guard let first = name.utf8.first, isLower(first), name.utf8.allSatisfy({ isLower($0) || isDigitOrDollar($0) })
        else { return identifier(name) }
        return name
    }

    /// `a, b, c and 12 more`: a detail line stays readable for a publication
    /// of thousands of tables, while the remediation still lists them all.
    static func list(_ items: [String], limit: Int = 20) -> String {
        guard items.count > limit else { return items.joined(separator: ", ") }
        return items.prefix(limit).joined(separator: ", ") + " and \(items.count - limit) more"
    }

    /// A libpq message on one line: libpq ends messages with a newline and
    /// puts a follow-up sentence ("Is the server running...?") on an indented
    /// line of its own, without closing the line before it.
    static func oneLine(_ message: String) -> String {
        let lines = message.split(whereSeparator: \.isNewline)
            .map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
            .filter { !$0.isEmpty }
        var text = ""
        for line in lines {
            if let last = text.last { text += ".?!:".contains(last) ? " " : ". " }
            text += line
        }
        return text
    }
}
