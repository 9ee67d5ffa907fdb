// The snapshot's part in schema evolution: each table it reads is resolved
// against the registry before its first row, and a version the registry did
// not have yet (on a new pipeline, every table's first) is stored and
// announced with an `s` event at the consistent point, ahead of the rows, in
// the group that saves the load plan. The rows then carry that version.

import EventStore
import PostgresWire

enum SnapshotSchemas {
    /// Resolves `tables` against `registry`, appends an `s` event and stores
    /// the version for each one not announced yet, in the open group,
    /// numbered from `firstOrdinal`; returns the tables with their versions
    /// and how many events were appended.
    static func announce(
        _ tables: [SnapshotPlan.Table], registry: inout SchemaRegistry, store: EventStoreWriter,
        context: EventEncoder.TransactionContext, database: String, firstOrdinal: Int32
    ) throws -> (tables: [SnapshotPlan.Table], events: Int32) {
        var encoder = EventEncoder(database: database)
        var ordinal = firstOrdinal
        var versioned: [SnapshotPlan.Table] = []
        for table in tables {
            let admitted = registry.admittingNewColumns(table.schema)
            let relation = admitted.relation
            let resolution = registry.resolve(
                schema: relation.namespace, table: relation.name, relationOID: relation.oid,
                columns: admitted.columns)
            let schema = admitted.versioned(resolution.version)
            if let version = resolution.announcement {
                try store.addTableSchema(version.stored(lsn: context.commitLSN, commitLSN: context.commitLSN))
                let body = encoder.schemaChange(
                    version, schema: schema, transaction: context, lsn: context.commitLSN, ordinal: ordinal)
                try store.append(commitLSN: context.commitLSN, ordinal: ordinal, body: body)
                registry.announced(version)
                ordinal += 1
            }
            versioned.append(
                SnapshotPlan.Table(
                    schema: schema, relfilenode: table.relfilenode, pages: table.pages,
                    estimatedRows: table.estimatedRows, isPageAddressable: table.isPageAddressable))
        }
        return (versioned, ordinal - firstOrdinal)
    }
}
