// The initial load (DESIGN §4 invariant 7): every table the publication and
// the filter select, read as of the snapshot the replication slot exported
// when it was created, stored as `r` events before the first streamed
// change. Streaming then starts at the slot's consistent point, so each
// committed change is in exactly one of the two: the snapshot or the stream.
//
// Rows go from COPY to the store one by one, in groups, never a whole table
// in memory. This first version loads tables one after another; parallel
// workers, ctid chunks and resuming an interrupted load (watermarks) come
// next (issue 3). Until then an interrupted load stops the pipeline loudly.

import EventStore
import PgOutput
import PostgresReplication
import PostgresWire

enum InitialLoad {
    static let stateKey = "initial_load"

    /// Loads every selected table under `snapshot`; returns the rows stored.
    @discardableResult
    static func run(
        config: PipelineConfig, snapshot: String, consistentPoint: LSN, database: String,
        store: EventStoreWriter, progress: PipelineProgress
    ) throws -> Int {
        progress.update { $0.state = .snapshotting }
        let connection = try PostgresConnection(settings: config.source, mode: .sql, applicationName: "popsink-pg load")
        try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try connection.query("SET TRANSACTION SNAPSHOT \(PostgresConnection.quoteLiteral(snapshot))")
        let tables = try connection.query(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2",
            [config.publication]
        ).rows.compactMap { row -> (String, String)? in
            guard let schema = row[0], let table = row[1] else { return nil }
            return config.filter.selects(schema: schema, table: table) ? (schema, table) : nil
        }

        let catalog = CatalogLookup(connection: connection)
        var encoder = EventEncoder(database: database)
        let context = EventEncoder.TransactionContext(snapshotAt: consistentPoint)
        // Rows of the load share the consistent point as their commit LSN,
        // so the checkpoint covering them names it too.
        let checkpoint = Checkpoint(lastCommitLSN: consistentPoint, flushLSN: consistentPoint)
        var ordinal: Int32 = 0
        var inGroup = 0
        try store.beginGroup()
        for (schemaName, tableName) in tables {
            let schema = try tableSchema(schemaName, tableName, connection: connection, catalog: catalog, filter: config.filter)
            let columns = schema.relation.columns.map { PostgresConnection.quoteIdentifier($0.name) }.joined(separator: ", ")
            let table = PostgresConnection.quoteIdentifier(schemaName) + "." + PostgresConnection.quoteIdentifier(tableName)
            try connection.copyOut("COPY \(table) (\(columns)) TO STDOUT") { line in
                let row = try CopyTextRow.parse(line, columns: schema.relation.columns.count)
                let body = encoder.change(
                    .read, schema: schema, transaction: context, lsn: consistentPoint, ordinal: ordinal, old: nil, new: row)
                try store.append(commitLSN: consistentPoint, ordinal: ordinal, body: body)
                ordinal += 1
                inGroup += 1
                if inGroup >= config.groupCommit.maxEvents {
                    try store.commitGroup(checkpoint: checkpoint)
                    try store.beginGroup()
                    inGroup = 0
                }
            }
        }
        try store.setMetadata(stateKey, "done")
        try store.commitGroup(checkpoint: checkpoint)
        try connection.query("COMMIT")
        progress.update { $0.eventsStored += Int64(ordinal) }
        return Int(ordinal)
    }

    /// The table's columns as a pgoutput Relation would describe them.
    private static func tableSchema(
        _ schema: String, _ table: String, connection: PostgresConnection, catalog: CatalogLookup, filter: TableFilter
    ) throws -> TableSchema {
        let rows = try connection.query(
            """
            SELECT c.oid, a.attname, a.atttypid, a.atttypmod
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attgenerated = ''
            ORDER BY a.attnum
            """, [schema, table]).rows
        let oid = rows.first.flatMap { $0[0] }.flatMap { UInt32($0) } ?? 0
        let columns = rows.map { row in
            Relation.Column(
                isKey: false, name: row[1] ?? "", typeOID: row[2].flatMap { UInt32($0) } ?? 0,
                typeModifier: row[3].flatMap { Int32($0) } ?? -1)
        }
        let relation = Relation(oid: oid, namespace: schema, name: table, replicaIdentity: .full, columns: columns)
        return try TableSchema(relation: relation, catalog: catalog, filter: filter)
    }
}
