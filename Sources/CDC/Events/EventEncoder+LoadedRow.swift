// The snapshot's `r` event, encoded straight from a COPY line: the same
// envelope as a streamed insert, with nothing before and no id yet (the
// store's writer numbers the rows, `withID`).

import PgOutput
import PostgresWire

extension EventEncoder {
    /// Appends the `r` event of `row`, without its `{"id":…` head, to `out`.
    mutating func loadedRow(
        _ row: CopyRow, schema: TableSchema, transaction: TransactionContext, lsn: LSN, into out: inout [UInt8]
    ) {
        if let mask = schema.mask {
            return maskedLoadedRow(mask, row, schema: schema, transaction: transaction, lsn: lsn, into: &out)
        }
        begin(.read, schema: schema, transaction: transaction, lsn: lsn, ordinal: nil)
        // Borrowed once per row: indexing the arrays themselves retained and
        // released each element.
        schema.columnKeys.withUnsafeBufferPointer { keys in
            schema.kinds.withUnsafeBufferPointer { kinds in
                writer.key(encoded: Self.keyKey)
                if schema.keyIndexes.isEmpty {
                    writer.null()
                } else {
                    writer.beginObject()
                    for index in schema.keyIndexes { writeLoaded(row[index], key: keys[index], kind: kinds[index]) }
                    writer.endObject()
                }
                writer.key(encoded: Self.beforeKey)
                writer.null()
                writer.key(encoded: Self.afterKey)
                writer.beginObject()
                for index in 0..<min(row.count, kinds.count) {
                    writeLoaded(row[index], key: keys[index], kind: kinds[index])
                }
                writer.endObject()
            }
        }
        writer.endObject()
        writer.bytes.withUnsafeBufferPointer { out.append(contentsOf: $0) }
    }

    private mutating func writeLoaded(_ text: TextBytes?, key: [UInt8], kind: ValueKind) {
        writer.key(encoded: key)
        guard let text else { return writer.null() }
        do {
            try ValueConverter.writeJSON(text, kind: kind, into: &writer)
        } catch {
            // As for streamed values: a text form the converter does not
            // know is kept as a string rather than dropped.
            writer.string(utf8: text)
        }
    }
}
