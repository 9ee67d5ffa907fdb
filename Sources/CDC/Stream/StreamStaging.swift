// Streamed transactions (pgoutput protocol 2+, `streaming 'on'`, DESIGN §4
// invariant 6). Postgres sends a large transaction in chunks before it
// commits, each chunk between Stream Start and Stream Stop, chunks of several
// transactions interleaved. The row changes are staged in the store, on disk;
// Stream Commit replays them, in arrival order, as an ordinary Begin … Commit
// (so ordinals, ids and replay skipping work exactly as for any transaction);
// Stream Abort drops the transaction or just the aborted subtransaction.

import EventStore
import PgOutput
import PostgresWire

struct StreamStaging {
    /// The transaction whose chunk is being received, between Stream Start and Stop.
    private(set) var currentTransaction: UInt32?
    private let protocolVersion: Int

    init(protocolVersion: Int) {
        self.protocolVersion = protocolVersion
    }

    mutating func started(_ start: StreamStart) { currentTransaction = start.xid }
    mutating func stopped() { currentTransaction = nil }

    /// Stages a row change of the current chunk; false for anything else
    /// (relations, types and messages are handled when they arrive).
    func stageIfStreamed(
        _ message: PgOutputMessage, raw: [UInt8], walStart: LSN, store: EventStoreWriter
    ) throws -> Bool {
        guard let xid = currentTransaction else { return false }
        let subtransaction: UInt32?
        switch message {
        case .insert(let change): subtransaction = change.xid
        case .update(let change): subtransaction = change.xid
        case .delete(let change): subtransaction = change.xid
        case .truncate(let change): subtransaction = change.xid
        default: return false
        }
        // The change's own WAL position goes first, for `source.lsn` on replay.
        var row = ByteWriter(capacity: raw.count + 8)
        row.write(walStart)
        row.write(bytes: raw)
        try store.stage(transaction: xid, subtransaction: subtransaction ?? xid, message: row.bytes[...])
        return true
    }

    /// Feeds `body` the committed transaction as Begin, its staged changes in
    /// order, and Commit, then drops what was staged.
    func replay(
        _ commit: StreamCommit, store: EventStoreWriter, _ body: (PgOutputMessage, LSN) throws -> Void
    ) throws {
        try body(.begin(Begin(finalLSN: commit.commitLSN, commitTime: commit.commitTime, xid: commit.xid)), commit.commitLSN)
        // Staged changes were read inside a stream block, where they carry a
        // transaction id: decode them in one.
        var decoder = PgOutputDecoder(protocolVersion: protocolVersion)
        var start = ByteWriter(capacity: 6)
        start.writeASCII("S")
        start.write(commit.xid)
        start.write(UInt8(0))
        _ = try decoder.decode(start.bytes)
        try store.forEachStaged(transaction: commit.xid) { row in
            var reader = ByteReader(row)
            let walStart = try reader.readLSN()
            try body(try decoder.decode(row, startingAt: 8), walStart)
        }
        // Dropped in the same store transaction as the events it became,
        // before the Commit below may close that transaction.
        try store.discardStaged(transaction: commit.xid)
        try body(.commit(Commit(
            flags: commit.flags, commitLSN: commit.commitLSN, endLSN: commit.endLSN, commitTime: commit.commitTime)),
            commit.commitLSN)
    }
}
