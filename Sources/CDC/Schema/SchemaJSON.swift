// One writer for a table version's JSON, shared by the `s` event
// (`EventEncoder+Schema`), the schema routes and `popsink-pg schemas`, so the
// three describe a column and a change with the same members. The store keeps
// versions as its own Codable JSON (`SchemaVersion`), which may hold members
// that are not shown (`attnum`) and may lack ones added since (`nullable`,
// `default`): it is decoded and written again, never passed on as it is, so
// an old row's unknown facts come out as null.
//   column: {"name","type","type_oid","type_modifier","key","nullable","default"[,"excluded":true]}
//   change: {"previous_version","added":[columns],"dropped":[names],
//            "retyped":[{"column","from","to"}],"renamed":[{"from","to"}],
//            "key_changed":null or {"from","to"}[,"table_dropped":true]}

import EventStore
import PgOutput

/// A stored version of a table's columns as JSON.
public enum SchemaJSON {
    /// `{"change","columns","commit_lsn","lsn","relation_oid","schema","table","version"}`,
    /// members sorted like every other API object.
    public static func write(_ stored: StoredTableSchema, into writer: inout JSONWriter) throws {
        let version = try SchemaVersion(stored: stored)
        writer.beginObject()
        writer.key("change")
        if let change = version.change { writer.write(change) } else { writer.null() }
        writer.key("columns")
        writer.write(version.columns)
        writer.key("commit_lsn")
        writer.string(stored.commitLSN.description)
        writer.key("lsn")
        writer.string(stored.lsn.description)
        writer.key("relation_oid")
        writer.integer(stored.relationOID)
        writer.key("schema")
        writer.string(stored.schema)
        writer.key("table")
        writer.string(stored.table)
        writer.key("version")
        writer.integer(stored.version)
        writer.endObject()
    }

    /// The version as one line of JSON (`popsink-pg schemas`).
    public static func line(_ stored: StoredTableSchema) throws -> String {
        var writer = JSONWriter()
        try write(stored, into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

extension JSONWriter {
    mutating func write(_ columns: [ColumnSchema]) {
        beginArray()
        for column in columns { write(column) }
        endArray()
    }

    mutating func write(_ column: ColumnSchema) {
        beginObject()
        key("name")
        string(column.name)
        key("type")
        string(column.typeName)
        key("type_oid")
        integer(column.typeOID)
        key("type_modifier")
        integer(column.typeModifier)
        key("key")
        bool(column.isKey)
        key("nullable")
        if let nullable = column.isNullable { bool(nullable) } else { null() }
        key("default")
        if let value = column.defaultExpression { string(value) } else { null() }
        if column.isExcluded == true {
            key("excluded")
            bool(true)
        }
        endObject()
    }

    mutating func write(_ change: SchemaDiff) {
        beginObject()
        key("previous_version")
        integer(change.previousVersion)
        key("added")
        write(change.added)
        key("dropped")
        strings(change.dropped)
        key("retyped")
        beginArray()
        for retype in change.retyped {
            beginObject()
            key("column")
            string(retype.column)
            fromTo(retype.from, retype.to)
            endObject()
        }
        endArray()
        key("renamed")
        beginArray()
        for rename in change.renamed {
            beginObject()
            fromTo(rename.from, rename.to)
            endObject()
        }
        endArray()
        key("key_changed")
        if let keyChange = change.keyChanged {
            beginObject()
            key("from")
            strings(keyChange.from)
            key("to")
            strings(keyChange.to)
            endObject()
        } else {
            null()
        }
        if change.tableDropped == true {
            key("table_dropped")
            bool(true)
        }
        endObject()
    }

    mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    /// `"from":…,"to":…`, the pair a retype and a rename are told with.
    private mutating func fromTo(_ from: String, _ to: String) {
        key("from")
        string(from)
        key("to")
        string(to)
    }
}
