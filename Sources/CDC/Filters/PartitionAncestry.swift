// The tables each table is a partition (or inheritance child) of, read from
// `pg_inherits`, nearest first, so the filter can select a partition by its
// root's name (`TableFilter.selects(schema:table:ancestors:)`). Read for the
// whole database when the captured set is computed, and for one relation when
// the stream meets it (a partition attached while streaming, or one just
// detached, which has none any more).

import PostgresReplication

struct PartitionAncestry: Sendable {
    private var byTable: [TableFilter.TableName: [TableFilter.TableName]] = [:]

    /// The ancestors of `schema.table`; empty for a table that is no partition.
    func ancestors(schema: String, table: String) -> [TableFilter.TableName] {
        byTable[TableFilter.TableName(schema: schema, table: table)] ?? []
    }

    /// Every table of the database that has ancestors, with them.
    static func read(over connection: PostgresConnection) throws(PostgresError) -> PartitionAncestry {
        let rows = try connection.query(
            """
            WITH RECURSIVE up(child, parent, depth) AS (
                SELECT i.inhrelid, i.inhparent, 1 FROM pg_inherits i
                JOIN pg_class k ON k.oid = i.inhrelid AND k.relkind IN ('r', 'p', 'f')
                UNION ALL
                SELECT up.child, i.inhparent, up.depth + 1 FROM up JOIN pg_inherits i ON i.inhrelid = up.parent)
            SELECT cn.nspname, cc.relname, n.nspname, c.relname
            FROM up
            JOIN pg_class cc ON cc.oid = up.child JOIN pg_namespace cn ON cn.oid = cc.relnamespace
            JOIN pg_class c ON c.oid = up.parent JOIN pg_namespace n ON n.oid = c.relnamespace
            ORDER BY up.child, up.depth
            """
        ).rows
        var ancestry = PartitionAncestry()
        for row in rows {
            guard let childSchema = row[0], let child = row[1], let schema = row[2], let table = row[3] else {
                continue
            }
            ancestry.byTable[TableFilter.TableName(schema: childSchema, table: child), default: []].append(
                TableFilter.TableName(schema: schema, table: table))
        }
        return ancestry
    }

    /// The ancestors of the relation `oid`, nearest first.
    static func ancestors(of oid: UInt32, over connection: PostgresConnection) throws(PostgresError)
        -> [TableFilter.TableName]
    {
        try connection.query(
            """
            WITH RECURSIVE up(parent, depth) AS (
                SELECT inhparent, 1 FROM pg_inherits WHERE inhrelid = $1::oid
                UNION ALL
                SELECT i.inhparent, up.depth + 1 FROM up JOIN pg_inherits i ON i.inhrelid = up.parent)
            SELECT n.nspname, c.relname
            FROM up JOIN pg_class c ON c.oid = up.parent JOIN pg_namespace n ON n.oid = c.relnamespace
            ORDER BY up.depth
            """, [String(oid)]
        ).rows.compactMap { row in
            guard let schema = row[0], let table = row[1] else { return nil }
            return TableFilter.TableName(schema: schema, table: table)
        }
    }
}
