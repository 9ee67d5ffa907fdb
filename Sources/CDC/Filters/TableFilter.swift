// Which tables a pipeline captures, on top of what the publication sends.
//
// A table is captured when it passes the include lists (an empty list
// includes everything) and matches no exclude pattern. Table patterns with a
// dot match `schema.table`; without one they match the bare table name in any
// schema.

/// Include and exclude patterns on schemas and tables.
public struct TableFilter: Sendable, Hashable, Codable {
    public var includeSchemas: [String]
    public var excludeSchemas: [String]
    public var includeTables: [String]
    public var excludeTables: [String]

    public init(
        includeSchemas: [String] = [], excludeSchemas: [String] = [],
        includeTables: [String] = [], excludeTables: [String] = []
    ) {
        self.includeSchemas = includeSchemas
        self.excludeSchemas = excludeSchemas
        self.includeTables = includeTables
        self.excludeTables = excludeTables
    }

    /// Captures everything the publication sends.
    public static let all = TableFilter()

    public func selects(schema: String, table: String) -> Bool {
        func schemaMatches(_ patterns: [String]) -> Bool {
            patterns.contains { Glob($0).matches(schema) }
        }
        func tableMatches(_ patterns: [String]) -> Bool {
            patterns.contains { pattern in
                pattern.contains(".") ? Glob(pattern).matches("\(schema).\(table)") : Glob(pattern).matches(table)
            }
        }
        if !includeSchemas.isEmpty && !schemaMatches(includeSchemas) { return false }
        if !includeTables.isEmpty && !tableMatches(includeTables) { return false }
        return !schemaMatches(excludeSchemas) && !tableMatches(excludeTables)
    }
}
