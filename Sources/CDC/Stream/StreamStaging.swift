// Streamed transactions (pgoutput protocol 2+, `streaming 'on'`, DESIGN §4
// invariant 6). Postgres sends a large transaction in chunks before it
// commits, each chunk between Stream Start and Stream Stop, chunks of several
// transactions interleaved. The row changes are staged in the store, on disk;
// Stream Commit replays them, in arrival order, as an ordinary Begin … Commit
// (so ordinals, ids and replay skipping work exactly as for any transaction);
// Stream Abort drops the transaction or just the aborted subtransaction.
//
// This value only decides; `StreamMachine` turns its answers into actions
// and the session does the staging.

import PgOutput
import PostgresWire

struct StreamStaging {
    /// Where a streamed row change goes in the store.
    struct Target: Equatable {
        let transaction: UInt32
        let subtransaction: UInt32
    }

    /// The transaction whose chunk is being received, between Stream Start and Stop.
    private(set) var currentTransaction: UInt32?
    /// Transactions that have streamed a chunk and neither committed nor aborted yet.
    private(set) var inFlight: Set<UInt32> = []
    private let protocolVersion: Int
    /// Decodes staged rows while one transaction is replayed.
    private var replayDecoder: PgOutputDecoder?

    init(protocolVersion: Int) {
        self.protocolVersion = protocolVersion
    }

    mutating func started(_ start: StreamStart) {
        currentTransaction = start.xid
        inFlight.insert(start.xid)
    }

    mutating func stopped() { currentTransaction = nil }

    mutating func aborted(_ abort: StreamAbort) {
        if abort.abortsTransaction { inFlight.remove(abort.xid) }
    }

    /// Where a message of the current chunk is staged: a row change, a
    /// transactional logical message (DDL capture's, the user's), or a
    /// Relation, each replayed in its place. A DDL in
    /// the middle of a streamed transaction makes its changes two shapes, and
    /// a Relation handled on arrival would decode the earlier ones with the
    /// later shape. Relations go with the whole transaction, never a
    /// subtransaction: pgoutput sends one once per streamed transaction, so
    /// one sent in a subtransaction that aborts still describes the rest.
    /// nil for anything else (types and other messages are handled on arrival).
    func target(of message: PgOutputMessage) -> Target? {
        guard let xid = currentTransaction else { return nil }
        let subtransaction: UInt32?
        switch message {
        case .relation: subtransaction = xid
        case .insert(let change): subtransaction = change.xid
        case .update(let change): subtransaction = change.xid
        case .delete(let change): subtransaction = change.xid
        case .truncate(let change): subtransaction = change.xid
        case .message(let logical) where logical.transactional && logical.prefix != ChangeAssembler.watermarkPrefix:
            subtransaction = logical.xid
        default: return nil
        }
        return Target(transaction: xid, subtransaction: subtransaction ?? xid)
    }

    /// The staged row: the change's own WAL position first (for
    /// `source.lsn` on replay), then the pgoutput message.
    static func stagedRow(walStart: LSN, message: [UInt8]) -> [UInt8] {
        var row = ByteWriter(capacity: message.count + 8)
        row.write(walStart)
        row.write(bytes: message)
        return row.bytes
    }

    /// Starts replaying `commit`'s staged rows; they follow through `decodeStaged`.
    mutating func replayStarted(_ commit: StreamCommit) throws {
        inFlight.remove(commit.xid)
        // Staged changes were read inside a stream block, where they carry a
        // transaction id: decode them in one.
        var decoder = PgOutputDecoder(protocolVersion: protocolVersion)
        var start = ByteWriter(capacity: 6)
        start.writeASCII("S")
        start.write(commit.xid)
        start.write(UInt8(0))
        _ = try decoder.decode(start.bytes)
        replayDecoder = decoder
    }

    /// One staged row of the transaction being replayed.
    mutating func decodeStaged(_ row: [UInt8]) throws -> (message: PgOutputMessage, walStart: LSN) {
        guard replayDecoder != nil else { throw ChangeAssembler.Failure.unexpected("a staged row outside a replay") }
        var reader = ByteReader(row)
        let walStart = try reader.readLSN()
        return (try replayDecoder!.decode(row, startingAt: 8), walStart)
    }

    mutating func replayFinished() { replayDecoder = nil }
}
