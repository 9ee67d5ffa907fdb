// Which tables a pipeline captures, on top of what the publication sends.
//
// A table is captured when it passes the include lists (an empty list
// includes everything) and matches no exclude pattern. Table patterns with a
// dot match `schema.table`; without one they match the bare table name in any
// schema.
//
// `rows` holds row filters (`RowCondition`) by exact `schema.table`: they are
// pushed into a managed publication (PostgreSQL 15+), so Postgres sends only
// the changes of matching rows (`ManagedPublication`).

/// Include and exclude patterns on schemas and tables.
public struct TableFilter: Sendable, Hashable, Codable {
    public var includeSchemas: [String]
    public var excludeSchemas: [String]
    public var includeTables: [String]
    public var excludeTables: [String]
    /// Row filters by `schema.table`; a managed publication's only.
    public var rows: [String: RowCondition]

    public init(
        includeSchemas: [String] = [], excludeSchemas: [String] = [],
        includeTables: [String] = [], excludeTables: [String] = [], rows: [String: RowCondition] = [:]
    ) {
        self.includeSchemas = includeSchemas
        self.excludeSchemas = excludeSchemas
        self.includeTables = includeTables
        self.excludeTables = excludeTables
        self.rows = rows
    }

    private enum CodingKeys: String, CodingKey {
        case includeSchemas, excludeSchemas, includeTables, excludeTables, rows
    }

    /// Records written before row filters lack `rows`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        includeSchemas = try container.decode([String].self, forKey: .includeSchemas)
        excludeSchemas = try container.decode([String].self, forKey: .excludeSchemas)
        includeTables = try container.decode([String].self, forKey: .includeTables)
        excludeTables = try container.decode([String].self, forKey: .excludeTables)
        rows = try container.decodeIfPresent([String: RowCondition].self, forKey: .rows) ?? [:]
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
