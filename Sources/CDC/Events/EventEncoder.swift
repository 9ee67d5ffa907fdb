// The JSON envelope of one change event (DESIGN §5), written straight into a
// reused byte buffer. This runs once per captured row, so everything that is
// the same for a table or a transaction is encoded once and appended as
// bytes (bench/stream: building the envelope key by key cost 28% of the
// pipeline's CPU), and nothing here allocates per event but the result.

import EventStore
import PgOutput
import PostgresWire

struct EventEncoder {
    enum Operation: UInt8 {
        case insert = 0x63  // c
        case update = 0x75  // u
        case delete = 0x64  // d
        case truncate = 0x74  // t
        case read = 0x72  // r: a row of the snapshot
        case schema = 0x73  // s: a new version of a table's columns
        case message = 0x6D  // m: a logical decoding message (a captured DDL command)
    }

    /// What every event of one transaction shares, encoded once.
    struct TransactionContext {
        let commitLSN: LSN
        /// `{"id":"<commit LSN>:`
        let idPrefix: [UInt8]
        /// `"txid":N,"lsn":"`
        let sourceMiddle: [UInt8]
        /// `","commit_lsn":"…","commit_ts":"…","snapshot":false}`
        let sourceEnd: [UInt8]
        /// Events of a streamed transaction encoded before its commit
        /// (EventEncoder+Template.swift): what only the commit knows is left out.
        private(set) var isTemplate = false

        init(begin: Begin) {
            commitLSN = begin.finalLSN
            let lsn = begin.finalLSN.description
            idPrefix = Array(#"{"id":"\#(lsn):"#.utf8)
            sourceMiddle = Array(#""txid":\#(begin.xid),"lsn":""#.utf8)
            sourceEnd = Array(
                #"","commit_lsn":"\#(lsn)","commit_ts":"\#(begin.commitTime.iso8601)","snapshot":false}"#.utf8)
        }

        /// The snapshot: rows as of the slot's consistent point, which
        /// stands in for the commit LSN (every streamed transaction commits
        /// after it), with no transaction id or commit time.
        init(snapshotAt consistentPoint: LSN) {
            commitLSN = consistentPoint
            let lsn = consistentPoint.description
            idPrefix = Array(#"{"id":"\#(lsn):"#.utf8)
            sourceMiddle = Array(#""txid":null,"lsn":""#.utf8)
            sourceEnd = Array(#"","commit_lsn":"\#(lsn)","commit_ts":null,"snapshot":true}"#.utf8)
        }

        /// A streamed transaction's events encoded before its commit: no id,
        /// `ts_ms`, commit LSN or commit time (`EventEncoder.completion`).
        init(templateFor xid: UInt32) {
            commitLSN = .zero
            idPrefix = []
            sourceMiddle = Array(#""txid":\#(xid),"lsn":""#.utf8)
            sourceEnd = Self.templateSourceEnd
            isTemplate = true
        }

        static let templateSourceEnd = Array(#","snapshot":false}"#.utf8)

        /// A non-transactional logical message: its own LSN stands in for
        /// the commit LSN (it is decoded in WAL order, between the commits
        /// around it), with no transaction id or commit time.
        init(nonTransactionalAt lsn: LSN) {
            let base = TransactionContext(snapshotAt: lsn)
            self.init(
                commitLSN: lsn, idPrefix: base.idPrefix, sourceMiddle: base.sourceMiddle,
                sourceEnd: Array(#"","commit_lsn":"\#(lsn)","commit_ts":null,"snapshot":false}"#.utf8))
        }

        /// Rows of an on-demand backfill: a snapshot read whose source names the backfill (`"backfill":"<id>"`).
        init(snapshotAt point: LSN, backfill: String) {
            self.init(snapshotAt: point)
            var id = JSONWriter()
            id.string(backfill)
            let end = Array(sourceEnd.dropLast()) + Array(#","backfill":"#.utf8) + id.bytes + [UInt8(ascii: "}")]
            self = TransactionContext(
                commitLSN: commitLSN, idPrefix: idPrefix, sourceMiddle: sourceMiddle, sourceEnd: end)
        }

        private init(commitLSN: LSN, idPrefix: [UInt8], sourceMiddle: [UInt8], sourceEnd: [UInt8]) {
            self.commitLSN = commitLSN
            self.idPrefix = idPrefix
            self.sourceMiddle = sourceMiddle
            self.sourceEnd = sourceEnd
        }
    }

    /// `"database":"…",` for the source block.
    private let databaseMember: [UInt8]
    var writer = JSONWriter(capacity: 16 * 1024)
    /// Where the last event's commit-only bytes were left out, when its
    /// transaction is a template; nil otherwise.
    private(set) var templateGaps: TemplateGaps?
    var unchangedToast: [String] = []

    init(database: String) {
        var member = JSONWriter.encodedKey("database")
        var value = JSONWriter()
        value.string(database)
        member += value.bytes + [UInt8(ascii: ",")]
        databaseMember = member
    }

    /// An insert (`old` nil), update or delete (`new` nil).
    mutating func change(
        _ operation: Operation, schema: TableSchema, transaction: TransactionContext, lsn: LSN, ordinal: Int32?,
        old: OldTuple?, new: TupleData?
    ) -> [UInt8] {
        if let mask = schema.mask {
            return maskedChange(
                mask, operation, schema: schema, transaction: transaction, lsn: lsn, ordinal: ordinal, old: old,
                new: new)
        }
        begin(operation, schema: schema, transaction: transaction, lsn: lsn, ordinal: ordinal)
        let oldFull: TupleData? = if case .full(let tuple) = old { tuple } else { nil }

        writer.key(encoded: Self.keyKey)
        if let image = new ?? old?.tuple, !schema.keyIndexes.isEmpty {
            writer.beginObject()
            for index in schema.keyIndexes {
                writeColumn(index, of: image, fallback: old?.tuple, schema: schema, listUnchanged: false)
            }
            writer.endObject()
        } else {
            writer.null()
        }

        writer.key(encoded: Self.beforeKey)
        switch old {
        case .full(let tuple):
            image(tuple, fallback: nil, schema: schema, onlyKeys: false)
        case .key(let tuple):
            // A key-only old tuple carries nulls for every non-key column.
            image(tuple, fallback: nil, schema: schema, onlyKeys: true)
        case nil:
            writer.null()
        }

        writer.key(encoded: Self.afterKey)
        unchangedToast.removeAll(keepingCapacity: true)
        if let new {
            image(new, fallback: oldFull, schema: schema, onlyKeys: false)
        } else {
            writer.null()
        }
        return endChange()
    }

    /// Lists the unchanged TOASTed columns the after image left out and closes the event.
    mutating func endChange() -> [UInt8] {
        if !unchangedToast.isEmpty {
            writer.key(encoded: Self.unchangedToastKey)
            writer.beginArray()
            for name in unchangedToast { writer.string(name) }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }

    /// A truncate of one table: no key and no images, and the statement's options.
    mutating func truncate(
        schema: TableSchema, transaction: TransactionContext, lsn: LSN, ordinal: Int32, cascade: Bool = false,
        restartIdentity: Bool = false
    ) -> [UInt8] {
        begin(.truncate, schema: schema, transaction: transaction, lsn: lsn, ordinal: ordinal)
        writer.fragment(Self.emptyImages, endsValue: true)
        writer.key(encoded: Self.cascadeKey)
        writer.bool(cascade)
        writer.key(encoded: Self.restartIdentityKey)
        writer.bool(restartIdentity)
        writer.endObject()
        return writer.bytes
    }

    // MARK: - Parts

    static let keyKey = JSONWriter.encodedKey("key")
    static let beforeKey = JSONWriter.encodedKey("before")
    static let afterKey = JSONWriter.encodedKey("after")
    static let unchangedToastKey = JSONWriter.encodedKey("unchanged_toast")
    private static let cascadeKey = JSONWriter.encodedKey("cascade")
    private static let restartIdentityKey = JSONWriter.encodedKey("restart_identity")
    static let emptyImages = Array(#","key":null,"before":null,"after":null"#.utf8)
    /// `","op":"c","ts_ms":` and its siblings, one per operation.
    private static func opMember(_ operation: Operation) -> [UInt8] {
        switch operation {
        case .insert: insertMember
        case .update: updateMember
        case .delete: deleteMember
        case .truncate: truncateMember
        case .read: readMember
        case .schema: schemaMember
        case .message: messageMember
        }
    }
    private static let insertMember = member(.insert)
    private static let updateMember = member(.update)
    private static let deleteMember = member(.delete)
    private static let truncateMember = member(.truncate)
    private static let readMember = member(.read)
    private static let schemaMember = member(.schema)
    private static let messageMember = member(.message)
    private static func member(_ operation: Operation) -> [UInt8] {
        Array(#"","op":"\#(Character(Unicode.Scalar(operation.rawValue)))","ts_ms":"#.utf8)
    }
    private static let sourceStart = Array(#","source":{"#.utf8)

    /// `{"id":…,"op":…,"ts_ms":…,"source":{…}` — `id` first, so readers of an
    /// output file find it without parsing the line. Without an ordinal the
    /// event starts after it (`","op":…`): the snapshot's workers encode
    /// rows before the store's writer numbers them (`withID`).
    mutating func begin(
        _ operation: Operation, schema: TableSchema, transaction: TransactionContext, lsn: LSN, ordinal: Int32?
    ) {
        begin(operation, tableMembers: schema.tableMembers, transaction: transaction, lsn: lsn, ordinal: ordinal)
    }

    /// `begin` with the source block's table members given as bytes
    /// (`"schema":null,"table":null,` for an event of no table).
    mutating func begin(
        _ operation: Operation, tableMembers: [UInt8], transaction: TransactionContext, lsn: LSN, ordinal: Int32?
    ) {
        writer.reset()
        if let ordinal, !transaction.isTemplate {
            writer.fragment(transaction.idPrefix, endsValue: false)
            writer.fragmentDigits(UInt64(ordinal))
        }
        writer.fragment(Self.opMember(operation), endsValue: false)
        let firstGap = writer.bytes.count
        if !transaction.isTemplate { writer.fragmentDigits(UInt64(WallClock.unixMicroseconds() / 1000)) }
        writer.fragment(Self.sourceStart, endsValue: false)
        writer.fragment(databaseMember, endsValue: false)
        writer.fragment(tableMembers, endsValue: false)
        writer.fragment(transaction.sourceMiddle, endsValue: false)
        writer.fragmentHex(UInt32(truncatingIfNeeded: lsn.rawValue >> 32))
        writer.fragment(Self.slash, endsValue: false)
        writer.fragmentHex(UInt32(truncatingIfNeeded: lsn.rawValue))
        templateGaps = transaction.isTemplate ? TemplateGaps(first: firstGap, second: writer.bytes.count) : nil
        writer.fragment(transaction.sourceEnd, endsValue: true)
    }

    private static let slash = [UInt8(ascii: "/")]

    /// Completes an event encoded without its ordinal: `{"id":"<lsn>:<ordinal>` + `tail`, into `buffer`.
    static func withID(
        _ tail: UnsafeRawBufferPointer, transaction: TransactionContext, ordinal: Int32, into buffer: inout [UInt8]
    ) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: transaction.idPrefix)
        var digits: (UInt64, UInt64) = (UInt64(ordinal), 1)
        while digits.1 * 10 <= digits.0 { digits.1 *= 10 }
        repeat {
            buffer.append(UInt8(truncatingIfNeeded: 48 + digits.0 / digits.1 % 10))
            digits.1 /= 10
        } while digits.1 > 0
        buffer.append(contentsOf: tail)
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
    mutating func writeColumn(
        _ index: Int, of tuple: TupleData, fallback: TupleData?, schema: TableSchema, listUnchanged: Bool
    ) {
        guard index < tuple.columns.count, index < schema.kinds.count else { return }
        var value = tuple.columns[index]
        if case .unchangedToast = value, let fallback, index < fallback.columns.count {
            value = fallback.columns[index]
        }
        if case .unchangedToast = value {
            if listUnchanged { unchangedToast.append(schema.relation.columns[index].name) }
            return
        }
        writer.key(encoded: schema.columnKeys[index])
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
