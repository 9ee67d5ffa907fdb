// Shell-style patterns for schema and table names: `*` matches any run of
// characters, `?` one character, everything else itself (case-sensitive,
// like Postgres identifiers once unquoted).

/// A compiled name pattern such as `public.*` or `order_?`.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let scalars: [Unicode.Scalar]

    public init(_ pattern: String) {
        self.pattern = pattern
        scalars = Array(pattern.unicodeScalars)
    }

    public var description: String { pattern }

    public func matches(_ name: String) -> Bool {
        let text = Array(name.unicodeScalars)
        // Iterative matching with backtracking to the last `*`: linear in
        // practice, no recursion on hostile patterns.
        var p = 0
        var t = 0
        var star: Int?
        var resume = 0
        while t < text.count {
            if p < scalars.count, scalars[p] == "?" || scalars[p] == text[t] {
                p += 1
                t += 1
            } else if p < scalars.count, scalars[p] == "*" {
                star = p
                resume = t
                p += 1
            } else if let star {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < scalars.count, scalars[p] == "*" { p += 1 }
        return p == scalars.count
    }
}
