// The JSON envelope of one change event (DESIGN §5), written straight into a
// reused byte buffer: this runs once per captured row, so it allocates little
// and uses no Foundation.

import PgOutput
import PostgresWire

struct EventEncoder {
    enum Operation: String {
        case insert = "c"
        case update = "u"
        case delete = "d"
        case truncate = "t"
    }

    /// What every event of one transaction shares, formatted once.
    struct TransactionContext {
        let commitLSN: LSN
        let xid: UInt32
        let commitLSNText: String
        let commitTimeText: String

        init(begin: Begin) {
            commitLSN = begin.finalLSN
            xid = begin.xid
            commitLSNText = begin.finalLSN.description
            commitTimeText = begin.commitTime.iso8601
        }
    }

    private let database: String
    private var writer = JSONWriter(capacity: 16 * 1024)
    private var unchangedToast: [String] = []

    init(database: String) {
        self.database = database
    }

    /// An insert (`old` nil), update or delete (`new` nil).
    mutating func change(
        _ operation: Operation, schema: TableSchema, transaction: TransactionContext, lsn: LSN, ordinal: Int32,
        old: OldTuple?, new: TupleData?
    ) -> [UInt8] {
        begin(operation, schema: schema, transaction: transaction, lsn: lsn, ordinal: ordinal)
        let oldFull: TupleData? = if case .full(let tuple) = old { tuple } else { nil }

        writer.key("key")
        if let image = new ?? old?.tuple, !schema.keyIndexes.isEmpty {
            writer.beginObject()
            for index in schema.keyIndexes {
                writeColumn(index, of: image, fallback: old?.tuple, schema: schema, listUnchanged: false)
            }
            writer.endObject()
        } else {
            writer.null()
        }

        writer.key("before")
        switch old {
        case .full(let tuple):
            image(tuple, fallback: nil, schema: schema, onlyKeys: false)
        case .key(let tuple):
            // A key-only old tuple carries nulls for every non-key column.
            image(tuple, fallback: nil, schema: schema, onlyKeys: true)
        case nil:
            writer.null()
        }

        writer.key("after")
        unchangedToast.removeAll(keepingCapacity: true)
        if let new {
            image(new, fallback: oldFull, schema: schema, onlyKeys: false)
        } else {
            writer.null()
        }
        if !unchangedToast.isEmpty {
            writer.key("unchanged_toast")
            writer.beginArray()
            for name in unchangedToast { writer.string(name) }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }

    /// A truncate of one table: no key and no images.
    mutating func truncate(schema: TableSchema, transaction: TransactionContext, lsn: LSN, ordinal: Int32) -> [UInt8] {
        begin(.truncate, schema: schema, transaction: transaction, lsn: lsn, ordinal: ordinal)
        for field in ["key", "before", "after"] {
            writer.key(field)
            writer.null()
        }
        writer.endObject()
        return writer.bytes
    }

    // MARK: - Parts

    private mutating func begin(
        _ operation: Operation, schema: TableSchema, transaction: TransactionContext, lsn: LSN, ordinal: Int32
    ) {
        writer.reset()
        writer.beginObject()
        // `id` goes first: readers of an output file find it without parsing the line.
        writer.key("id")
        writer.string("\(transaction.commitLSNText):\(ordinal)")
        writer.key("op")
        writer.string(operation.rawValue)
        writer.key("ts_ms")
        writer.integer(WallClock.unixMicroseconds() / 1000)
        writer.key("source")
        writer.beginObject()
        writer.key("database")
        writer.string(database)
        writer.key("schema")
        writer.string(schema.relation.namespace)
        writer.key("table")
        writer.string(schema.relation.name)
        writer.key("txid")
        writer.integer(transaction.xid)
        writer.key("lsn")
        writer.string(lsn.description)
        writer.key("commit_lsn")
        writer.string(transaction.commitLSNText)
        writer.key("commit_ts")
        writer.string(transaction.commitTimeText)
        writer.key("snapshot")
        writer.bool(false)
        writer.endObject()
    }

    private mutating func image(_ tuple: TupleData, fallback: TupleData?, schema: TableSchema, onlyKeys: Bool) {
        writer.beginObject()
        for index in schema.relation.columns.indices where !onlyKeys || schema.relation.columns[index].isKey {
            writeColumn(index, of: tuple, fallback: fallback, schema: schema, listUnchanged: true)
        }
        writer.endObject()
    }

    /// Writes `"name": value`. An unchanged TOASTed value comes from
    /// `fallback` (the old row image) when it has it; otherwise the column is
    /// left out and, for the after image, listed in `unchanged_toast`.
    private mutating func writeColumn(
        _ index: Int, of tuple: TupleData, fallback: TupleData?, schema: TableSchema, listUnchanged: Bool
    ) {
        guard index < tuple.columns.count, index < schema.kinds.count else { return }
        let name = schema.relation.columns[index].name
        var value = tuple.columns[index]
        if case .unchangedToast = value, let fallback, index < fallback.columns.count {
            value = fallback.columns[index]
        }
        if case .unchangedToast = value {
            if listUnchanged { unchangedToast.append(name) }
            return
        }
        writer.key(name)
        do {
            try ValueConverter.writeJSON(value, kind: schema.kinds[index], into: &writer)
        } catch {
            // A text form the converter does not know (a new type's output,
            // say) is kept as a string rather than dropped.
            switch value {
            case .text(let text), .binary(let text): writer.string(utf8: text)
            case .null, .unchangedToast: writer.null()
            }
        }
    }
}
