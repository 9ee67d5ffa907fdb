// The rows of a query result, copied out of libpq's PGresult in text form.

/// Rows of a finished query, values in Postgres text format.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[String?]]

    public init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The value of `column` in row `row`, nil for SQL NULL or an unknown column.
    public func value(_ column: String, row: Int = 0) -> String? {
        guard row < rows.count, let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }
}
