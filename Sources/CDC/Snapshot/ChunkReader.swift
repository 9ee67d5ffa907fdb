// Reads the rows of one load chunk with COPY, each with the heap page it
// came from, so progress can be recorded page by page (a chunk interrupted
// half way resumes at its first unstored page, not at its start).

import EventStore
import PgOutput
import PostgresReplication

struct ChunkReader {
    let connection: PostgresConnection

    /// Calls `row` for each row of `table` in pages `from..<chunk.endPage`,
    /// in page order. The page is nil for tables not read by page. The row
    /// is borrowed from the line being read, valid only during the call.
    /// `filter`, a backfill's condition, is SQL rendered by `BackfillCondition.render`.
    func read(
        _ chunk: SnapshotChunk, of table: SnapshotPlan.Table, from firstPage: UInt32, filter: String? = nil,
        row: (_ page: UInt32?, _ values: CopyRow) throws -> Void
    ) throws {
        let columns = table.schema.relation.columns
        let list = columns.map { PostgresConnection.quoteIdentifier($0.name) }.joined(separator: ", ")
        let ranged = connection.serverVersion >= 140000 && table.isPageAddressable
        var conditions: [String] = []
        if ranged {
            if firstPage > 0 { conditions.append("ctid >= '(\(firstPage),0)'::tid") }
            if let end = chunk.endPage { conditions.append("ctid < '(\(end),0)'::tid") }
        }
        if let filter { conditions.append("(\(filter))") }
        let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let addressable = table.isPageAddressable
        var fields = CopyTextFields()
        try connection.copyOut(
            "COPY (SELECT ctid, \(list) FROM \(table.qualifiedName)\(condition)) TO STDOUT"
        ) { line in
            let (page, rest) = try Self.ctidPage(line)
            // Without a range scan the pages before a resume point are read
            // again and skipped here.
            if addressable && page < firstPage { return }
            try fields.withRow(line, from: rest, columns: columns.count) { values in
                try row(addressable ? page : nil, values)
            }
        }
    }

    /// The page number of the line's leading `(page,item)` field, and where the next field starts.
    private static func ctidPage(_ line: UnsafeRawBufferPointer) throws -> (UInt32, Int) {
        var index = 1
        var page: UInt32 = 0
        guard line.count > 1, line[0] == UInt8(ascii: "(") else { throw CopyTextFields.Failure.badTID }
        while index < line.count, line[index] != UInt8(ascii: ",") {
            let digit = line[index] &- 0x30
            guard digit < 10 else { throw CopyTextFields.Failure.badTID }
            page = page &* 10 &+ UInt32(digit)
            index += 1
        }
        while index < line.count, line[index] != 0x09 { index += 1 }
        return (page, index + 1)
    }
}
