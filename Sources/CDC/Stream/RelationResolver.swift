// Resolves a Relation message of the stream against the catalog, for the
// machine's `lookUpSchema` and `lookUpStagedSchema` actions: whether the
// stream captures the table (the filter or the applied table set, by its own
// name or a partition root's), its key and column types (`CatalogLookup`),
// the root it is a partition of, and the pipeline's column mask.

import PgOutput
import PostgresReplication

struct RelationResolver {
    let catalog: CatalogLookup
    let tableSet: TableSetWatch
    let mask: ColumnMask?

    func schema(of relation: Relation) throws(PostgresError) -> TableSchema {
        let ancestors = try PartitionAncestry.ancestors(of: relation.oid, over: catalog.connection)
        return try TableSchema(
            relation: relation, catalog: catalog, captured: tableSet.captures(relation, ancestors: ancestors),
            partitionRoot: ancestors.last
        ).masked(by: mask)
    }
}
