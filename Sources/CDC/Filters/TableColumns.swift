// A table's columns as the catalog has them, for checking and rendering row
// conditions: each column's type, and the columns its replica identity
// covers (a publication's row filter may read only those, see
// `RowCondition.identityProblem`).

import PostgresReplication

/// The columns of one table.
public struct TableColumns: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public let name: String
        /// The type without its modifier (`numeric`, `character varying`,
        /// `integer[]`), as `format_type(atttypid, NULL)` gives it.
        public let type: String
        /// Whether the replica identity covers it.
        public let inIdentity: Bool

        public init(name: String, type: String, inIdentity: Bool = false) {
            self.name = name
            self.type = type
            self.inIdentity = inIdentity
        }
    }

    /// `schema.table`.
    public let table: String
    public let columns: [Column]
    /// `REPLICA IDENTITY FULL`: every column is in the old row image.
    public let identityFull: Bool

    public init(table: String, columns: [Column], identityFull: Bool = false) {
        self.table = table
        self.columns = columns
        self.identityFull = identityFull
    }

    public func column(_ name: String) -> Column? { columns.first { $0.name == name } }

    /// The columns of `schema`.`table`, or nil when there is no such table.
    public static func read(schema: String, table: String, connection: PostgresConnection) throws(PostgresError)
        -> TableColumns?
    {
        // The identity of DEFAULT is the primary key, of USING INDEX that
        // index (pg_index.indisreplident); NOTHING and FULL have no index.
        let rows = try connection.query(
            """
            SELECT a.attname, format_type(a.atttypid, NULL), c.relreplident,
                   EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND a.attnum = ANY (i.indkey)
                           AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident)))
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
            ORDER BY a.attnum
            """, [schema, table]
        ).rows
        guard let first = rows.first else { return nil }
        let columns = rows.compactMap { row -> Column? in
            guard let name = row[0], let type = row[1] else { return nil }
            return Column(name: name, type: type, inIdentity: row[3] == "t")
        }
        return TableColumns(table: schema + "." + table, columns: columns, identityFull: first[2] == "f")
    }
}
