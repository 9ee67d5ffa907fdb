// The filter over partitions (and inheritance children): a table is a part
// of its partitioned root, so a pattern naming the root names its parts too.
// Without `publish_via_partition_root` Postgres publishes each partition as a
// table of its own; `include_tables: ["public.measurements"]` must still
// capture them, and `exclude_tables` on the root must leave them out.
//
// A table is selected when it or one of its ancestors passes the include
// lists, and neither it nor any ancestor matches an exclude pattern. A table
// with no ancestors is selected exactly as by `selects(schema:table:)`.

extension TableFilter {
    /// A table's schema and name.
    public struct TableName: Sendable, Hashable {
        public let schema: String
        public let table: String

        public init(schema: String, table: String) {
            self.schema = schema
            self.table = table
        }
    }

    /// Whether the filter selects the table, given the tables it is a
    /// partition of, nearest first (`PartitionAncestry`).
    public func selects(schema: String, table: String, ancestors: [TableName]) -> Bool {
        guard !ancestors.isEmpty else { return selects(schema: schema, table: table) }
        let chain = [TableName(schema: schema, table: table)] + ancestors
        let included = chain.contains { name in
            (includeSchemas.isEmpty || Self.matches(includeSchemas, schema: name.schema))
                && (includeTables.isEmpty || Self.matches(includeTables, name))
        }
        let excluded = chain.contains { name in
            Self.matches(excludeSchemas, schema: name.schema) || Self.matches(excludeTables, name)
        }
        return included && !excluded
    }

    private static func matches(_ patterns: [String], schema: String) -> Bool {
        patterns.contains { Glob($0).matches(schema) }
    }

    /// Table patterns with a dot match `schema.table`, without one the bare name.
    private static func matches(_ patterns: [String], _ name: TableName) -> Bool {
        patterns.contains { pattern in
            pattern.contains(".")
                ? Glob(pattern).matches("\(name.schema).\(name.table)") : Glob(pattern).matches(name.table)
        }
    }
}
