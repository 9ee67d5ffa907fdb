// What the snapshot reads: the tables the publication and the filter
// select, each with its columns resolved like a pgoutput Relation, and cut
// into chunks of heap pages that workers can read in parallel with a TID
// range scan (`WHERE ctid >= '(a,0)' AND ctid < '(b,0)'`, PostgreSQL 14+).
//
// Why pages are a safe unit: a row visible to the load's snapshot sits in a
// page that existed when the snapshot was taken, and it does not move while
// the snapshot lives (an update writes a new version elsewhere; vacuum keeps
// versions a live snapshot can see). The planner holds ACCESS SHARE locks on
// every table for the whole load, as pg_dump does, so no rewrite (VACUUM
// FULL, CLUSTER, ALTER TABLE) can renumber pages under it. The page count is
// read after the snapshot, so it can only overcount, and each table's last
// chunk is open-ended anyway.

import EventStore
import PgOutput
import PostgresReplication
import PostgresWire

enum SnapshotPlan {
    /// One selected table.
    struct Table: Sendable {
        let schema: TableSchema
        let relfilenode: UInt32
        let pages: UInt32
        let estimatedRows: Int64
        /// Plain heap tables can be read by page range; a partitioned table
        /// published through its root cannot.
        let isPageAddressable: Bool

        /// `schema.table`, as `SnapshotChunk.tableName` spells it.
        var name: String { schema.relation.namespace + "." + schema.relation.name }

        var qualifiedName: String {
            PostgresConnection.quoteIdentifier(schema.relation.namespace) + "."
                + PostgresConnection.quoteIdentifier(schema.relation.name)
        }

        /// The key columns the watermark method matches rows on; empty when
        /// the table has neither a primary key nor a replica identity index.
        var hasKey: Bool { !schema.keyIndexes.isEmpty }
    }

    /// Reads the selected tables from the catalog over `connection` (in the
    /// load's snapshot when there is one).
    /// `alsoSelecting` (`schema.table` names) are read even when the filter
    /// excludes them: tables still captured until a table set change's marker.
    static func tables(
        config: PipelineConfig, connection: PostgresConnection, catalog: CatalogLookup,
        alsoSelecting: Set<String> = []
    ) throws -> [Table] {
        let selected = try connection.query(
            """
            SELECT p.schemaname, p.tablename, c.oid, c.relfilenode, c.relkind,
                   (pg_relation_size(c.oid) / current_setting('block_size')::int)::bigint AS pages,
                   greatest(c.reltuples, 0)::bigint AS estimated
            FROM pg_publication_tables p
            JOIN pg_namespace n ON n.nspname = p.schemaname
            JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename
            WHERE p.pubname = $1 ORDER BY 1, 2
            """, [config.publication])
        var tables: [Table] = []
        let ancestry = try PartitionAncestry.read(over: connection)
        for row in selected.rows {
            guard let schemaName = row[0], let tableName = row[1], let oid = row[2].flatMap({ UInt32($0) }),
                config.filter.selects(
                    schema: schemaName, table: tableName,
                    ancestors: ancestry.ancestors(schema: schemaName, table: tableName))
                    || alsoSelecting.contains(schemaName + "." + tableName)
            else { continue }
            let schema = try tableSchema(
                oid: oid, schema: schemaName, table: tableName, connection: connection, catalog: catalog,
                partitionRoot: ancestry.ancestors(schema: schemaName, table: tableName).last)
            tables.append(
                Table(
                    schema: schema, relfilenode: row[3].flatMap { UInt32($0) } ?? 0,
                    pages: row[5].flatMap { UInt32($0) } ?? 0, estimatedRows: row[6].flatMap { Int64($0) } ?? 0,
                    isPageAddressable: row[4] == "r" || row[4] == "m"))
        }
        return tables
    }

    /// Each table's position in `tables`, by `name`.
    static func index(_ tables: [Table]) -> [String: Int] {
        Dictionary(tables.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Cuts tables into chunks of `pagesPerChunk` pages. Page ranges need a
    /// TID range scan (PostgreSQL 14) to be read without scanning the whole
    /// table each time, so older servers get one chunk per table.
    static func chunks(
        of tables: [Table], pagesPerChunk: UInt32, serverVersion: Int, firstID: Int64 = 0
    ) -> [SnapshotChunk] {
        var chunks: [SnapshotChunk] = []
        for table in tables {
            let name = (table.schema.relation.namespace, table.schema.relation.name)
            let ranged = serverVersion >= 140000 && table.isPageAddressable && pagesPerChunk > 0
            var first: UInt32 = 0
            repeat {
                let end = first.addingReportingOverflow(pagesPerChunk)
                let isLast = !ranged || end.overflow || end.partialValue >= table.pages
                chunks.append(
                    SnapshotChunk(
                        id: firstID + Int64(chunks.count), schema: name.0, table: name.1,
                        relfilenode: table.relfilenode,
                        firstPage: first, endPage: isLast ? nil : end.partialValue))
                if isLast { break }
                first = end.partialValue
            } while true
        }
        return chunks
    }

    /// The table's columns as a pgoutput Relation would describe them.
    private static func tableSchema(
        oid: UInt32, schema: String, table: String, connection: PostgresConnection, catalog: CatalogLookup,
        partitionRoot: TableFilter.TableName?
    ) throws -> TableSchema {
        let rows = try connection.query(
            """
            SELECT a.attname, a.atttypid, a.atttypmod
            FROM pg_attribute a
            WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum
            """, [String(oid)]
        ).rows
        let columns = rows.map { row in
            Relation.Column(
                isKey: false, name: row[0] ?? "", typeOID: row[1].flatMap { UInt32($0) } ?? 0,
                typeModifier: row[2].flatMap { Int32($0) } ?? -1)
        }
        let relation = Relation(oid: oid, namespace: schema, name: table, replicaIdentity: .full, columns: columns)
        return try TableSchema(relation: relation, catalog: catalog, captured: true, partitionRoot: partitionRoot)
    }
}
