// `new_columns: exclude` (`ColumnMask`): a table with masking rules sends no
// column its newest schema version does not deliver, until a rule names it.
// The registry holds what each table delivered, so every path that resolves a
// relation against it (stream, DDL capture, load, backfill, a table whose
// capture starts) admits the relation here first; a column held back is kept
// in the version, marked `excluded`, so it stays held back after a restart.
// A table's first version (or the first of a table of that name created
// again) delivers every column no rule excludes.

extension SchemaRegistry {
    /// `schema` with the columns its table's newest version does not deliver
    /// held back, when its mask says so; `schema` itself otherwise.
    func admittingNewColumns(_ schema: TableSchema) -> TableSchema {
        guard let mask = schema.mask, mask.named != nil else { return schema }
        let relation = schema.relation
        let known: Set<String>
        if let current = latest[Name(schema: relation.namespace, table: relation.name)],
            current.relationOID == relation.oid, current.change?.tableDropped != true
        {
            known = Set(current.columns.filter { $0.isExcluded != true }.map(\.name))
        } else {
            known = Set(mask.columns)
        }
        let admitted = mask.holdingBack(unless: known)
        return admitted === mask ? schema : schema.remasked(admitted)
    }
}
