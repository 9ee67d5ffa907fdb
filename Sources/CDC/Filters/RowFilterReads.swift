// The row filters of a managed publication as the reads of whole tables
// apply them (the initial load, resumed loads, backfills): Postgres sends
// only the changes of matching rows, so a load that read every row would
// leave a consumer with rows the stream never updates or deletes. Rendered
// once per table and connection, by the same rules as the publication's.

import PostgresReplication

struct RowFilterReads {
    private let rows: [String: RowCondition]
    private var rendered: [String: String] = [:]

    /// The filters of `config`: none unless its publication is managed.
    init(_ config: PipelineConfig) {
        self.init(rows: config.publicationMode == .managed ? config.filter.rows : [:])
    }

    init(rows: [String: RowCondition]) { self.rows = rows }

    /// The SQL of the row filter of `schema.table`, nil when it has none.
    mutating func sql(schema: String, table: String, connection: PostgresConnection) throws -> String? {
        let name = schema + "." + table
        guard let condition = rows[name] else { return nil }
        if let sql = rendered[name] { return sql }
        let sql = try ManagedPublication.rowFilterSQL(
            condition, of: QualifiedName(schema: schema, table: table), connection: connection)
        rendered[name] = sql
        return sql
    }

    /// Both conditions, either, or none.
    static func and(_ first: String?, _ second: String?) -> String? {
        guard let first else { return second }
        guard let second else { return first }
        return "(\(first)) AND (\(second))"
    }
}
