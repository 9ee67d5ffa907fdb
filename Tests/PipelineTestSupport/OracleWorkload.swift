// The oracle's writers: concurrent sessions running a known mix of
// transactions against the oracle's tables (see `OracleSchema`), and recording
// in an `OracleLedger` what each transaction changed.
//
// The mix: inserts, updates and deletes of a writer's own rows; updates of the
// preloaded rows every writer shares (so per-key order crosses sessions);
// inserts into a second table; savepoints rolled back or released; whole
// transactions rolled back; and now and then one large transaction (500 rows,
// streamed by the walsender once it passes `logical_decoding_work_mem`).
// Writers survive their server going away: they reconnect, and a transaction
// cut short is left for `oracle_commits` to settle.

import Foundation
import PostgresReplication
import PostgresTestSupport
import Synchronization

public final class OracleWorkload: Sendable {
    public struct Mix: Sendable {
        /// Percent of transactions that insert `largeRows` notes in one statement.
        public var largePercent = 3
        public var largeRows = 500
        /// Percent of transactions ended with ROLLBACK.
        public var rollbackPercent = 8
        /// Percent of statements wrapped in a savepoint (half rolled back, half released).
        public var savepointPercent = 15
        /// Pause between a writer's transactions, so writers do not take every core of a small machine.
        public var pause: Duration = .milliseconds(5)

        public init() {}
    }

    public let ledger = OracleLedger()
    private let stopFlag = Atomic<Bool>(false)
    private let finishedWriters = Atomic<Int>(0)
    private let committedCount = Atomic<Int>(0)
    private let largeSeq = Atomic<Int>(0)
    private let errors = LockedValue<[String]>([])
    public let writers: Int

    /// Starts `writers` threads against `database`; they run until `stop()`.
    private let postgres: TestPostgres
    private let database: String

    public init(postgres: TestPostgres, database: String, writers: Int = 3, mix: Mix = Mix()) {
        self.writers = writers
        self.postgres = postgres
        self.database = database
        for writer in 1...writers {
            let thread = Thread { [self] in
                var session = WriterSession(
                    writer: writer, postgres: postgres, database: database, mix: mix, ledger: ledger)
                while !stopFlag.load(ordering: .relaxed) {
                    do {
                        if try session.runOneTransaction() { committedCount.add(1, ordering: .relaxed) }
                    } catch {
                        errors.withLock { $0.append("writer \(writer): \(error)") }
                        session.dropConnection()
                        usleep(200_000)
                    }
                    usleep(UInt32(mix.pause.components.attoseconds / 1_000_000_000_000))
                }
                finishedWriters.add(1, ordering: .relaxed)
            }
            thread.name = "oracle-writer-\(writer)"
            thread.start()
        }
    }

    /// Transactions whose COMMIT returned success so far.
    public var committed: Int { committedCount.load(ordering: .relaxed) }

    /// Failed statements and reconnects (expected while a fault is on).
    public var failures: [String] { errors.withLock { $0 } }

    /// Stops the writers and waits for them to finish their current transaction.
    public func stop() async {
        stopFlag.store(true, ordering: .relaxed)
        while finishedWriters.load(ordering: .relaxed) < writers {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs one large oracle transaction on a connection of its own (as
    /// writer `writer`, which no thread uses): inserts `rows` notes, runs
    /// `beforeCommit` while the transaction is still open, then commits.
    public func largeTransaction(
        writer: Int, rows: Int, beforeCommit: () async throws -> Void
    ) async throws {
        let connection = try postgres.connect(database: database)
        let seq = largeSeq.add(1, ordering: .relaxed).newValue
        let first = OracleSchema.firstID(writer: writer) + (seq - 1) * rows
        let id = OracleTransactionID(writer: writer, seq: seq)
        var changes = (first..<first + rows).map { OracleChange(table: "oracle_notes", op: "c", id: $0, version: 0) }
        changes.append(
            OracleChange(
                table: "oracle_commits", op: "c", id: OracleSchema.commitMarker(writer: writer, seq: seq), version: 0))
        ledger.record(OracleTransaction(id: id, changes: changes, outcome: .unknown))
        try connection.query("BEGIN")
        try connection.query(
            "INSERT INTO oracle_notes (id, writer, body) SELECT n, \(writer), repeat('L', 200) FROM generate_series(\(first), \(first + rows - 1)) n"
        )
        try connection.query("INSERT INTO oracle_commits (writer, seq) VALUES (\(writer), \(seq))")
        try await beforeCommit()
        try connection.query("COMMIT")
        ledger.record(OracleTransaction(id: id, changes: changes, outcome: .committed))
    }

    /// Waits until at least `count` more transactions have committed.
    public func waitForCommits(_ count: Int, seconds: Double = 120) async throws {
        let target = committed + count
        let deadline = Date().addingTimeInterval(seconds)
        while committed < target {
            guard Date() < deadline else {
                throw TestPostgresError(
                    "the oracle's writers committed \(committed) of \(target) transactions within \(Int(seconds)) s; "
                        + "last failures: \(failures.suffix(3))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// One writer's connection and its view of its own rows.
struct WriterSession {
    let writer: Int
    let postgres: TestPostgres
    let database: String
    let mix: OracleWorkload.Mix
    let ledger: OracleLedger
    private var connection: PostgresConnection?
    /// Ids of this writer's rows that exist as of its last committed transaction.
    private var live: [Int] = []
    private var nextItem: Int
    private var nextNote: Int
    private var seq = 0
    private var rng = SystemRandomNumberGenerator()

    init(writer: Int, postgres: TestPostgres, database: String, mix: OracleWorkload.Mix, ledger: OracleLedger) {
        self.writer = writer
        self.postgres = postgres
        self.database = database
        self.mix = mix
        self.ledger = ledger
        nextItem = OracleSchema.firstID(writer: writer)
        nextNote = OracleSchema.firstID(writer: writer)
    }

    mutating func dropConnection() { connection = nil }

    /// Runs one transaction; true when it committed. Throws when the
    /// connection failed (the transaction is then in the ledger as `unknown`).
    mutating func runOneTransaction() throws -> Bool {
        let connection = try connect()
        seq += 1
        var transaction = OracleTransaction(
            id: OracleTransactionID(writer: writer, seq: seq), changes: [], outcome: .unknown)
        var working = live
        do {
            try connection.query("BEGIN")
            if Int.random(in: 0..<100, using: &rng) < mix.largePercent {
                try largeInsert(connection, into: &transaction.changes)
            } else {
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    try statement(connection, working: &working, changes: &transaction.changes)
                }
            }
            if Int.random(in: 0..<100, using: &rng) < mix.rollbackPercent {
                try connection.query("ROLLBACK")
                transaction.outcome = .rolledBack
                ledger.record(transaction)
                return false
            }
            let marker = OracleSchema.commitMarker(writer: writer, seq: seq)
            try connection.query("INSERT INTO oracle_commits (writer, seq) VALUES (\(writer), \(seq))")
            transaction.changes.append(OracleChange(table: "oracle_commits", op: "c", id: marker, version: 0))
            ledger.record(transaction)
            try connection.query("COMMIT")
        } catch {
            // Possibly committed (the COMMIT's answer lost): oracle_commits decides.
            ledger.record(transaction)
            self.connection = nil
            throw error
        }
        transaction.outcome = .committed
        ledger.record(transaction)
        live = working
        return true
    }

    private mutating func connect() throws -> PostgresConnection {
        if let connection { return connection }
        let fresh = try postgres.connect(database: database)
        // Deadlocks between writers sharing rows abort one transaction; keep them quick.
        try fresh.query("SET deadlock_timeout = '100ms'")
        // A transaction cut short may or may not have committed: start again from what exists.
        let rows = try fresh.query("SELECT id FROM oracle_items WHERE writer = \(writer)")
        live = rows.rows.compactMap { $0[0].flatMap { Int($0) } }
        let maxima = try fresh.query(
            """
            SELECT (SELECT max(id) FROM oracle_items WHERE writer = \(writer)) AS item,
                   (SELECT max(id) FROM oracle_notes WHERE writer = \(writer)) AS note
            """)
        nextItem = max(nextItem, (maxima.value("item").flatMap { Int($0) } ?? 0) + 1)
        nextNote = max(nextNote, (maxima.value("note").flatMap { Int($0) } ?? 0) + 1)
        connection = fresh
        return fresh
    }

    private mutating func largeInsert(_ connection: PostgresConnection, into changes: inout [OracleChange]) throws {
        let first = nextNote
        let last = first + mix.largeRows - 1
        try connection.query(
            "INSERT INTO oracle_notes (id, writer, body) SELECT n, \(writer), repeat('b', 200) FROM generate_series(\(first), \(last)) n"
        )
        nextNote = last + 1
        changes += (first...last).map { OracleChange(table: "oracle_notes", op: "c", id: $0, version: 0) }
    }

    /// One statement, sometimes inside a savepoint that is then rolled back or released.
    private mutating func statement(
        _ connection: PostgresConnection, working: inout [Int], changes: inout [OracleChange]
    ) throws {
        guard Int.random(in: 0..<100, using: &rng) < mix.savepointPercent else {
            return try change(connection, working: &working, changes: &changes)
        }
        try connection.query("SAVEPOINT s")
        var inner = working
        var innerChanges: [OracleChange] = []
        try change(connection, working: &inner, changes: &innerChanges)
        if Bool.random(using: &rng) {
            try connection.query("ROLLBACK TO SAVEPOINT s")
        } else {
            try connection.query("RELEASE SAVEPOINT s")
            working = inner
            changes += innerChanges
        }
    }

    private mutating func change(
        _ connection: PostgresConnection, working: inout [Int], changes: inout [OracleChange]
    ) throws {
        let choice = Int.random(in: 0..<10, using: &rng)
        if choice < 3 || (working.isEmpty && choice < 8) {
            let id = nextItem
            nextItem += 1
            try connection.query(
                "INSERT INTO oracle_items (id, writer, version, pad) VALUES (\(id), \(writer), 0, repeat('i', 40))")
            working.append(id)
            changes.append(OracleChange(table: "oracle_items", op: "c", id: id, version: 0))
        } else if choice < 6 {
            let id = working[Int.random(in: 0..<working.count, using: &rng)]
            try update(connection, id: id, changes: &changes)
        } else if choice < 7 {
            try update(connection, id: Int.random(in: 1...OracleSchema.sharedRows, using: &rng), changes: &changes)
        } else if choice < 8 {
            let id = working.remove(at: Int.random(in: 0..<working.count, using: &rng))
            let deleted = try connection.query("DELETE FROM oracle_items WHERE id = \(id) RETURNING version")
            if let version = deleted.value("version").flatMap({ Int($0) }) {
                changes.append(OracleChange(table: "oracle_items", op: "d", id: id, version: version))
            }
        } else {
            let id = nextNote
            nextNote += 1
            try connection.query("INSERT INTO oracle_notes (id, writer, body) VALUES (\(id), \(writer), 'note')")
            changes.append(OracleChange(table: "oracle_notes", op: "c", id: id, version: 0))
        }
    }

    private func update(_ connection: PostgresConnection, id: Int, changes: inout [OracleChange]) throws {
        let updated = try connection.query(
            "UPDATE oracle_items SET version = version + 1 WHERE id = \(id) RETURNING version")
        if let version = updated.value("version").flatMap({ Int($0) }) {
            changes.append(OracleChange(table: "oracle_items", op: "u", id: id, version: version))
        }
    }
}
