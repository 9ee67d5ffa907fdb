// The `s` event: a table's new column list (or its first, when the pipeline
// starts capturing it), sent before the first change decoded with it so a
// consumer can create or alter its copy of the table from the stream alone.
// It has the envelope of a change with no key and no images, and two members
// of its own:
//   "schema": {"version":2,"columns":[{"name":…,"type":"numeric(12,2)","type_oid":1700,
//              "type_modifier":786438,"key":true,"nullable":false,"default":null}, …],"key":["id"]}
//   "change": null for the first version, else {"previous_version":1,"added":[columns],
//              "dropped":[names],"retyped":[{"column","from","to"}],"renamed":[{"from","to"}],
//              "key_changed":null or {"from":[names],"to":[names]}}
//   With DDL capture a dropped table's last `s` event has no columns, every
//   column in `change.dropped`, `"table_dropped":true` in `change` and
//   `"dropped":true` beside it.
//   When the table starts or stops being captured (`TableSetChange`):
//   "capture": "started" (a consumer starts its copy over: the table's rows
//   follow as `r` events, mixed with its changes) or "stopped" (no change of
//   the table follows).

import PostgresWire

extension EventEncoder {
    /// Whether an `s` event also says that its table starts or stops being captured.
    enum Capture: String {
        case started, stopped
    }

    /// The `s` event announcing `version` of `schema`'s table.
    mutating func schemaChange(
        _ version: SchemaVersion, schema: TableSchema, transaction: TransactionContext, lsn: LSN, ordinal: Int32,
        capture: Capture? = nil
    ) -> [UInt8] {
        beginWithoutImages(
            .schema, tableMembers: schema.tableMembers, transaction: transaction, lsn: lsn, ordinal: ordinal)
        writer.key("schema")
        writer.beginObject()
        writer.key("version")
        writer.integer(version.version)
        writer.key("columns")
        writer.write(version.columns)
        writer.key("key")
        writer.strings(version.columns.keyNames)
        writer.endObject()
        writer.key("change")
        if let change = version.change {
            writer.write(change)
        } else {
            writer.null()
        }
        if version.change?.tableDropped == true {
            writer.key("dropped")
            writer.bool(true)
        }
        if let capture {
            writer.key("capture")
            writer.string(capture.rawValue)
        }
        writer.endObject()
        return writer.bytes
    }
}
