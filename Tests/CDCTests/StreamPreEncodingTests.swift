// Streamed transactions encoded on arrival (StreamPreEncoding) against a real
// store: the same frames go through a machine that decodes staged messages at
// commit and one that moves the templates it encoded on arrival, each driving
// its own EventStoreWriter, and the events read back must be the same bytes
// (but `ts_ms`, the time each was made) with the same schema versions.

import EventStore
import Foundation
import PgOutput
import PostgresWire
import Testing

@testable import CDC

@Suite struct StreamPreEncodingTests {
    typealias F = PgOutputFrames

    /// A machine carrying out its actions on a real store, as `ReplicationSession` does.
    final class StoreDriver {
        var machine: StreamMachine
        let store: EventStoreWriter
        private(set) var moves = 0
        private(set) var replays = 0

        init(path: String, preEncode: Bool) throws {
            store = try EventStoreWriter(path: path)
            let checkpoint = Checkpoint(lastCommitLSN: .zero, flushLSN: LSN(0x100))
            machine = StreamMachine(
                protocolVersion: 2, database: "app", checkpoint: checkpoint, start: checkpoint.flushLSN,
                settings: .init(preEncodeStreamed: preEncode), watermark: nil, now: .now,
                schemaRegistry: SchemaRegistry())
        }

        func feed(_ message: [UInt8], at lsn: UInt64) throws {
            var actions: [StreamAction] = []
            try machine.received(F.xLog(message, at: lsn), into: &actions)
            try perform(actions)
        }

        func drained() throws {
            var actions: [StreamAction] = []
            machine.drained(now: .now, into: &actions)
            try perform(actions)
        }

        private func perform(_ actions: [StreamAction]) throws {
            for action in actions {
                switch action {
                case .beginGroup: try store.beginGroup()
                case .append(let record):
                    try store.append(commitLSN: record.commitLSN, ordinal: record.ordinal, body: record.body)
                case .recordSchema(let version): try store.addTableSchema(version)
                case .commitGroup(let summary, _): try store.commitGroup(checkpoint: summary.checkpoint)
                case .rollbackGroup: store.rollbackGroup()
                case .saveCheckpoint(let checkpoint): try store.saveCheckpoint(checkpoint)
                case .sendStatus: break
                case .stage(let target, let walStart, let message):
                    try store.stage(target, walStart: walStart, message: message)
                case .stageEvent(let target, let template, let gaps):
                    try store.stageEvent(target, template: template, gaps: gaps)
                case .commitStagedEvents(let move):
                    try move.perform(on: store)
                    moves += 1
                case .discardStaged(let transaction, let subtransaction):
                    try store.discardStaged(transaction: transaction, subtransaction: subtransaction)
                case .replayStaged(let commit):
                    replays += 1
                    var replayed: [StreamAction] = []
                    var rows: [[UInt8]] = []
                    try store.forEachStaged(transaction: commit.xid) { rows.append($0) }
                    for row in rows {
                        replayed.removeAll()
                        try machine.replayed(row, into: &replayed)
                        try perform(replayed)
                    }
                    replayed.removeAll()
                    try machine.replayFinished(commit, into: &replayed)
                    try perform(replayed)
                case .lookUpSchema(let relation):
                    machine.resolved(Self.schema(relation))
                case .lookUpStagedSchema(let relation):
                    // Before the commit the catalog does not show what the transaction creates.
                    switch relation.name {
                    case "type_created_in_the_transaction": machine.resolvedStaged(nil)
                    case "column_added_in_the_transaction":
                        machine.resolvedStaged(Self.schema(relation, visible: false))
                    default: machine.resolvedStaged(Self.schema(relation))
                    }
                case .readPiece, .readHeldRows, .recordPieceProgress, .markSnapshotDone, .recordTableSet:
                    Issue.record("unexpected action \(action.name)")
                }
            }
        }

        /// The schema the catalog gives `relation`; without the facts of its
        /// columns while they are not `visible`.
        static func schema(_ relation: Relation, visible: Bool = true) -> TableSchema {
            TableSchema(
                relation: relation, kinds: relation.columns.map { $0.typeOID == 23 ? .integer : .text },
                keyColumns: relation.columns.filter(\.isKey).map(\.name), isCaptured: relation.name != "ignored",
                columnFacts: relation.columns.map {
                    CatalogLookup.ColumnFacts(
                        typeName: $0.typeOID == 23 ? "integer" : "text", isNullable: visible ? !$0.isKey : nil,
                        defaultExpression: nil)
                })
        }

        /// The stored events with `ts_ms` zeroed, and the stored schema versions.
        func contents() throws -> (events: [String], versions: [StoredTableSchema]) {
            let reader = try EventStoreReader(path: store.path)
            let events = try reader.events(after: 0, limit: 1_000_000).map { event in
                "\(event.sequence) \(event.id) "
                    + String(decoding: event.body, as: UTF8.self).replacing(#/"ts_ms":\d+/#, with: #""ts_ms":0"#)
            }
            return (events, try reader.latestTableSchemas())
        }
    }

    /// Runs `frames` through both machines; returns the pre-encoding driver.
    @discardableResult
    static func compare(_ frames: (StoreDriver) throws -> Void, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> (decoded: StoreDriver, moved: StoreDriver)
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("preencoding-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let decoded = try StoreDriver(path: directory + "/decoded.db", preEncode: false)
        let moved = try StoreDriver(path: directory + "/moved.db", preEncode: true)
        try frames(decoded)
        try frames(moved)
        try decoded.drained()
        try moved.drained()
        let expected = try decoded.contents()
        let actual = try moved.contents()
        #expect(!expected.events.isEmpty, sourceLocation: sourceLocation)
        #expect(actual.events.count == expected.events.count, sourceLocation: sourceLocation)
        let difference = zip(actual.events, expected.events).first { $0.0 != $0.1 }
        #expect(
            difference == nil, "moved \(difference?.0 ?? "")\ndecoded \(difference?.1 ?? "")",
            sourceLocation: sourceLocation)
        #expect(actual.versions == expected.versions, sourceLocation: sourceLocation)
        #expect(decoded.moves == 0, sourceLocation: sourceLocation)
        return (decoded, moved)
    }

    /// An ordinary transaction inserting `id`, committed at `commit`, its messages just before.
    static func transaction(_ driver: StoreDriver, inserting id: Int, commit: UInt64) throws {
        try driver.feed(F.begin(commit: commit), at: commit - 0x80)
        try driver.feed(F.insert(id), at: commit - 0x40)
        try driver.feed(F.commit(commit), at: commit)
    }

    static func chunk(
        _ driver: StoreDriver, xid: UInt32, first: Bool, inserts: [(id: Int, sub: UInt32)], at lsn: UInt64,
        relation: [UInt8]? = nil
    ) throws {
        try driver.feed(F.streamStart(xid: xid, first: first), at: lsn)
        if first { try driver.feed(relation ?? F.relation(xid: xid), at: lsn) }
        for (offset, insert) in inserts.enumerated() {
            try driver.feed(
                F.insert(insert.id, "row \(insert.id)", xid: insert.sub), at: lsn + UInt64(offset + 1) * 0x10)
        }
        try driver.feed(F.streamStop(), at: lsn + 0x800)
    }

    @Test func aStreamedTransactionOnANewTableIsMovedWithItsSchemaEvent() throws {
        let (_, moved) = try Self.compare { driver in
            try Self.chunk(driver, xid: 9, first: true, inserts: (1...700).map { ($0, 9) }, at: 0x1000)
            try Self.chunk(driver, xid: 9, first: false, inserts: (701...1500).map { ($0, 9) }, at: 0x9000)
            try driver.feed(F.streamCommit(xid: 9, commit: 0x20000), at: 0x20000)
        }
        #expect(moved.moves == 1 && moved.replays == 0)
    }

    @Test func ordinaryAndStreamedTransactionsInterleaveInOneGroup() throws {
        let (_, moved) = try Self.compare { driver in
            try driver.feed(F.relation(), at: 0x500)
            try Self.transaction(driver, inserting: 1, commit: 0x800)
            try Self.chunk(driver, xid: 9, first: true, inserts: [(2, 9), (3, 9)], at: 0x1000)
            try Self.chunk(driver, xid: 10, first: true, inserts: [(20, 10)], at: 0x2000)
            try Self.chunk(driver, xid: 9, first: false, inserts: [(4, 9)], at: 0x3000)
            try Self.transaction(driver, inserting: 5, commit: 0x3900)
            try driver.feed(F.streamCommit(xid: 10, commit: 0x4000), at: 0x4000)
            try driver.feed(F.streamCommit(xid: 9, commit: 0x5000), at: 0x5000)
        }
        #expect(moved.moves == 2 && moved.replays == 0)
    }

    @Test func aRolledBackSubtransactionIsDroppedFromTheMovedEvents() throws {
        let (_, moved) = try Self.compare { driver in
            try driver.feed(F.relation(), at: 0x500)
            try Self.transaction(driver, inserting: 1, commit: 0x800)
            try Self.chunk(
                driver, xid: 9, first: true, inserts: (2...900).map { ($0, $0 % 3 == 0 ? 11 : 9) }, at: 0x1000)
            try driver.feed(F.streamAbort(xid: 9, subtransaction: 11), at: 0x9000)
            try driver.feed(F.streamCommit(xid: 9, commit: 0xA000), at: 0xA000)
        }
        #expect(moved.moves == 1)
    }

    /// Two streamed transactions announce the same new table; whichever
    /// commits second finds the version already announced and decodes at commit.
    @Test func aVersionAnnouncedMeanwhileFallsBackToDecoding() throws {
        let (_, moved) = try Self.compare { driver in
            try Self.chunk(driver, xid: 9, first: true, inserts: [(1, 9), (2, 9)], at: 0x1000)
            try Self.chunk(driver, xid: 10, first: true, inserts: [(3, 10)], at: 0x2000)
            try driver.feed(F.streamCommit(xid: 10, commit: 0x4000), at: 0x4000)
            try driver.feed(F.streamCommit(xid: 9, commit: 0x5000), at: 0x5000)
        }
        #expect(moved.moves == 1 && moved.replays == 1)
    }

    /// The change that carried the new version's `s` event is rolled back to
    /// a savepoint: the commit announces it at the next change instead.
    @Test func anAnnouncementInARolledBackSubtransactionFallsBackToDecoding() throws {
        let (_, moved) = try Self.compare { driver in
            try Self.chunk(driver, xid: 9, first: true, inserts: [(1, 11), (2, 9), (3, 9)], at: 0x1000)
            try driver.feed(F.streamAbort(xid: 9, subtransaction: 11), at: 0x3000)
            try driver.feed(F.streamCommit(xid: 9, commit: 0x5000), at: 0x5000)
        }
        #expect(moved.moves == 0 && moved.replays == 1)
    }

    /// A column added while the transaction streams: its later Relation makes a second version.
    @Test func aNewVersionInTheMiddleOfTheTransactionIsMovedToo() throws {
        let (_, moved) = try Self.compare { driver in
            try Self.chunk(driver, xid: 9, first: true, inserts: [(1, 9), (2, 9)], at: 0x1000)
            try driver.feed(F.streamStart(xid: 9, first: false), at: 0x2000)
            try driver.feed(
                F.relation(xid: 9, columns: F.usersColumns + [(false, "note", 25)]), at: 0x2010)
            try driver.feed(F.insert(3, xid: 9), at: 0x2020)
            try driver.feed(F.streamStop(), at: 0x2100)
            try driver.feed(F.streamCommit(xid: 9, commit: 0x5000), at: 0x5000)
        }
        #expect(moved.moves == 1)
    }

    /// What the transaction itself created is not in the catalog before it
    /// commits: such a transaction is decoded at commit, when it is.
    @Test(arguments: ["type_created_in_the_transaction", "column_added_in_the_transaction"])
    func aRelationTheCatalogDoesNotShowYetFallsBackToDecoding(table: String) throws {
        let (_, moved) = try Self.compare { driver in
            try Self.chunk(
                driver, xid: 9, first: true, inserts: [(1, 9), (2, 9)], at: 0x1000,
                relation: F.relation(name: table, xid: 9))
            try driver.feed(F.streamCommit(xid: 9, commit: 0x5000), at: 0x5000)
        }
        #expect(moved.moves == 0 && moved.replays == 1)
    }

    /// The stream recorded from PostgreSQL 15 (a small transaction, a
    /// streamed one that commits, one that rolls back, one rolled back to a savepoint).
    @Test func theRecordedStreamStoresTheSameEvents() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../PgOutputTests/Fixtures/protocol-v2-streaming.hex")
        let lines = try String(contentsOf: fixture, encoding: .utf8).split(separator: "\n").filter {
            !$0.hasPrefix("#")
        }
        let (_, moved) = try Self.compare { driver in
            for line in lines {
                let fields = line.split(separator: " ")
                let lsn = try #require(LSN(String(fields[0])))
                try driver.feed(StreamMachineStreamingTests.bytes(fields[2]), at: lsn.rawValue)
            }
        }
        #expect(moved.moves >= 1)
    }
}
