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
        writer.beginArray()
        for column in version.columns { write(column) }
        writer.endArray()
        writer.key("key")
        strings(version.columns.keyNames)
        writer.endObject()
        writer.key("change")
        if let change = version.change {
            write(change)
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

    private mutating func write(_ column: ColumnSchema) {
        writer.beginObject()
        writer.key("name")
        writer.string(column.name)
        writer.key("type")
        writer.string(column.typeName)
        writer.key("type_oid")
        writer.integer(column.typeOID)
        writer.key("type_modifier")
        writer.integer(column.typeModifier)
        writer.key("key")
        writer.bool(column.isKey)
        writer.key("nullable")
        if let nullable = column.isNullable { writer.bool(nullable) } else { writer.null() }
        writer.key("default")
        if let value = column.defaultExpression { writer.string(value) } else { writer.null() }
        writer.endObject()
    }

    private mutating func write(_ change: SchemaDiff) {
        writer.beginObject()
        writer.key("previous_version")
        writer.integer(change.previousVersion)
        writer.key("added")
        writer.beginArray()
        for column in change.added { write(column) }
        writer.endArray()
        writer.key("dropped")
        strings(change.dropped)
        writer.key("retyped")
        writer.beginArray()
        for retype in change.retyped {
            writer.beginObject()
            writer.key("column")
            writer.string(retype.column)
            fromTo(retype.from, retype.to)
            writer.endObject()
        }
        writer.endArray()
        writer.key("renamed")
        writer.beginArray()
        for rename in change.renamed {
            writer.beginObject()
            fromTo(rename.from, rename.to)
            writer.endObject()
        }
        writer.endArray()
        writer.key("key_changed")
        if let key = change.keyChanged {
            writer.beginObject()
            fromTo(key.from, key.to)
            writer.endObject()
        } else {
            writer.null()
        }
        if change.tableDropped == true {
            writer.key("table_dropped")
            writer.bool(true)
        }
        writer.endObject()
    }

    /// `"from":…,"to":…`, the pair a retype, a rename and a key change are told with.
    private mutating func fromTo(_ from: String, _ to: String) {
        writer.key("from")
        writer.string(from)
        writer.key("to")
        writer.string(to)
    }

    private mutating func fromTo(_ from: [String], _ to: [String]) {
        writer.key("from")
        strings(from)
        writer.key("to")
        strings(to)
    }

    private mutating func strings(_ values: [String]) {
        writer.beginArray()
        for value in values { writer.string(value) }
        writer.endArray()
    }
}
