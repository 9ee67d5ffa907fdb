// Events of a table with masked columns (`ColumnMask`): the same envelope
// as `change` and `loadedRow`, with each column kept, left out, replaced by
// its keyed hash or the placeholder, or cut short, in the key, the `before`
// and `after` images and loaded rows alike. A separate path, so a table
// without masking pays one branch per event and nothing per column.

import PgOutput
import PostgresWire

extension EventEncoder {
    /// `change`, for a table with masked columns.
    mutating func maskedChange(
        _ mask: ColumnMask.Table, _ operation: Operation, schema: TableSchema, transaction: TransactionContext,
        lsn: LSN, ordinal: Int32?, old: OldTuple?, new: TupleData?
    ) -> [UInt8] {
        begin(operation, schema: schema, transaction: transaction, lsn: lsn, ordinal: ordinal)
        let oldFull: TupleData? = if case .full(let tuple) = old { tuple } else { nil }

        writer.key(encoded: Self.keyKey)
        let keyIndexes = schema.keyIndexes.filter { mask.action($0) != .exclude }
        if let image = new ?? old?.tuple, !keyIndexes.isEmpty {
            writer.beginObject()
            for index in keyIndexes {
                writeMasked(index, mask, of: image, fallback: old?.tuple, schema: schema, listUnchanged: false)
            }
            writer.endObject()
        } else {
            writer.null()
        }

        writer.key(encoded: Self.beforeKey)
        switch old {
        case .full(let tuple): maskedImage(tuple, mask, fallback: nil, schema: schema, onlyKeys: false)
        case .key(let tuple): maskedImage(tuple, mask, fallback: nil, schema: schema, onlyKeys: true)
        case nil: writer.null()
        }

        writer.key(encoded: Self.afterKey)
        unchangedToast.removeAll(keepingCapacity: true)
        if let new {
            maskedImage(new, mask, fallback: oldFull, schema: schema, onlyKeys: false)
        } else {
            writer.null()
        }
        return endChange()
    }

    private mutating func maskedImage(
        _ tuple: TupleData, _ mask: ColumnMask.Table, fallback: TupleData?, schema: TableSchema, onlyKeys: Bool
    ) {
        writer.beginObject()
        for index in schema.relation.columns.indices where !onlyKeys || schema.relation.columns[index].isKey {
            writeMasked(index, mask, of: tuple, fallback: fallback, schema: schema, listUnchanged: true)
        }
        writer.endObject()
    }

    private mutating func writeMasked(
        _ index: Int, _ mask: ColumnMask.Table, of tuple: TupleData, fallback: TupleData?, schema: TableSchema,
        listUnchanged: Bool
    ) {
        switch mask.action(index) {
        case .keep:
            writeColumn(index, of: tuple, fallback: fallback, schema: schema, listUnchanged: listUnchanged)
        case .exclude:
            return
        case .hash, .redact, .truncate:
            guard index < tuple.columns.count else { return }
            var value = tuple.columns[index]
            if case .unchangedToast = value, let fallback, index < fallback.columns.count {
                value = fallback.columns[index]
            }
            switch value {
            case .unchangedToast:
                // A TOASTed value is never null, so its placeholder is known.
                if mask.action(index) == .redact {
                    writer.key(encoded: schema.columnKeys[index])
                    writer.string(ColumnMask.placeholder)
                } else if listUnchanged {
                    unchangedToast.append(schema.relation.columns[index].name)
                }
            case .null:
                writer.key(encoded: schema.columnKeys[index])
                writer.null()
            case .text(let text), .binary(let text):
                writer.key(encoded: schema.columnKeys[index])
                text.withUnsafeBytes { writeMaskedValue($0, mask.action(index), mask) }
            }
        }
    }

    /// A non-null value under `hash`, `redact` or `truncate`.
    private mutating func writeMaskedValue(
        _ text: UnsafeRawBufferPointer, _ action: ColumnMask.Action, _ mask: ColumnMask.Table
    ) {
        switch action {
        case .redact:
            writer.string(ColumnMask.placeholder)
        case .truncate(let length):
            let bytes = UnsafeBufferPointer(
                start: text.baseAddress?.assumingMemoryBound(to: UInt8.self), count: text.count)
            writer.string(utf8: bytes[..<UTF8Prefix.end(of: bytes, characters: length)])
        default:
            let digest = mask.key.hexDigest(text)
            writer.string(utf8: digest[...])
        }
    }

    /// `loadedRow`, for a table with masked columns.
    mutating func maskedLoadedRow(
        _ mask: ColumnMask.Table, _ row: CopyRow, schema: TableSchema, transaction: TransactionContext, lsn: LSN,
        into out: inout [UInt8]
    ) {
        begin(.read, schema: schema, transaction: transaction, lsn: lsn, ordinal: nil)
        writer.key(encoded: Self.keyKey)
        let keyIndexes = schema.keyIndexes.filter { mask.action($0) != .exclude }
        if keyIndexes.isEmpty {
            writer.null()
        } else {
            writer.beginObject()
            for index in keyIndexes { writeMaskedLoaded(row[index], index, mask, schema: schema) }
            writer.endObject()
        }
        writer.key(encoded: Self.beforeKey)
        writer.null()
        writer.key(encoded: Self.afterKey)
        writer.beginObject()
        for index in 0..<min(row.count, schema.kinds.count) {
            writeMaskedLoaded(row[index], index, mask, schema: schema)
        }
        writer.endObject()
        writer.endObject()
        writer.bytes.withUnsafeBufferPointer { out.append(contentsOf: $0) }
    }

    private mutating func writeMaskedLoaded(
        _ text: TextBytes?, _ index: Int, _ mask: ColumnMask.Table, schema: TableSchema
    ) {
        let action = mask.action(index)
        guard action != .exclude else { return }
        writer.key(encoded: schema.columnKeys[index])
        guard let text else { return writer.null() }
        if action != .keep { return text.withUnsafeBytes { writeMaskedValue($0, action, mask) } }
        do {
            try ValueConverter.writeJSON(text, kind: schema.kinds[index], into: &writer)
        } catch {
            writer.string(utf8: text)
        }
    }

    /// The `s` event's `"masked":{"excluded":[names],"hashed":[names],
    /// "redacted":[names],"truncated":{"name":N},"new_columns":"include"|"exclude"}`:
    /// which columns of the table never appear as they are in its events.
    mutating func maskedMember(_ mask: ColumnMask.Table) {
        writer.key("masked")
        writer.beginObject()
        for (key, names) in [("excluded", mask.excluded), ("hashed", mask.hashed), ("redacted", mask.redacted)] {
            writer.key(key)
            writer.strings(names)
        }
        writer.key("truncated")
        writer.beginObject()
        for (column, length) in mask.truncated {
            writer.key(column)
            writer.integer(length)
        }
        writer.endObject()
        writer.key("new_columns")
        writer.string(mask.named == nil ? "include" : "exclude")
        writer.endObject()
    }
}

extension ColumnMask.Table {
    /// The registry's columns of a masked table: excluded ones left out (a
    /// column held back as new stays, marked `excluded`, so the `s` event
    /// says it exists), hashed and redacted ones as `text`, truncated ones
    /// as `text` unless their values are strings already.
    /// A masked column's default is left out too: after `ADD COLUMN ...
    /// DEFAULT`, it is every existing row's value.
    func masked(_ columns: [ColumnSchema], kinds: [ValueKind]) -> [ColumnSchema] {
        columns.indices.compactMap { index in
            var column = columns[index]
            let action = action(index)
            if action == .keep { return column }
            column.defaultExpression = nil
            switch action {
            case .keep: return column
            case .exclude:
                guard heldBack.contains(index) else { return nil }
                column.isExcluded = true
            case .truncate where index < kinds.count && (kinds[index] == .text || kinds[index] == .other):
                break
            case .hash, .redact, .truncate:
                column.typeOID = 25
                column.typeModifier = -1
                column.typeName = "text"
            }
            return column
        }
    }
}
