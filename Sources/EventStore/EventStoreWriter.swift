// The single writer of a pipeline's store: appends events in groups and
// commits each group together with the checkpoint that covers it, in one
// SQLite transaction. That one transaction is what makes the store
// exactly-once (DESIGN §6): after a crash either the events and their
// checkpoint are both there, or neither is, and the pipeline resumes from the
// checkpoint and skips what it already has.

import PostgresWire

/// Writes a pipeline's event store.
///
/// Not `Sendable`: a writer belongs to the one thread that runs the pipeline
/// (create it there, or hand it over before first use and never share it).
/// Its calls block that thread on disk I/O, the fsync in `commitGroup` above
/// all, which is intended. Exactly one writer may have a store open; a second
/// one, in this process or another, fails with `.writerAlreadyOpen`.
///
/// A group is: `beginGroup()`, any number of `append`, then
/// `commitGroup(checkpoint:)` or `rollbackGroup()`. Events appended are not
/// visible to readers, and are not durable, until `commitGroup` returns.
/// If any group operation throws, the group has already been rolled back.
public final class EventStoreWriter {
    /// The database file.
    public let path: String
    /// The durable checkpoint, nil for a store that has never committed one.
    public private(set) var checkpoint: Checkpoint?
    /// The highest sequence committed, 0 when nothing ever was. Events of an
    /// open group are not counted until it commits.
    public private(set) var lastSequence: Int64 = 0

    /// The store's random identity, made when the store was created (DESIGN §6).
    public let storeID: StoreID

    /// True between `beginGroup()` and the end of the group.
    public var isGroupOpen: Bool { group != nil }

    let connection: SQLiteConnection
    let queries: StoreQueries
    let statements: WriterStatements
    private let lock: WriterLock
    private var group: OpenGroup?
    /// The events of the open group not yet written as a block, and the
    /// buffer their compressed frame goes to; both reused from block to block.
    var block = EventBlockBuilder()
    var compressedBlock: [UInt8] = []
    /// What streamed transactions staged and is not yet written as staged
    /// blocks, by transaction and kind; written at the latest when the group commits.
    var staging: [StagedKey: EventBlockBuilder] = [:]
    /// Where the writer decompresses the blocks it reads back.
    var scratch = BlockScratch()

    /// What the writer remembers about the group in progress.
    private struct OpenGroup {
        var eventCount: Int64 = 0
        var bodyBytes: Int64 = 0
        var minCommitLSN = LSN(UInt64.max)
        var maxCommitLSN = LSN.zero
        let beganAtMicros: Int64
    }

    /// Opens the store at `path`, creating the file and its directory when
    /// missing and bringing the schema up to date.
    ///
    /// - Parameter durability: `.full` (the default) fsyncs every commit; see `Durability`.
    public init(path: String, durability: Durability = .full) throws(EventStoreError) {
        self.path = path
        if FileSystem.isDirectory(path) {
            throw EventStoreError(
                kind: .notAnEventStore, operation: "open", path: path, message: "the path is a directory")
        }
        try FileSystem.createParentDirectory(of: path)
        lock = try WriterLock(storePath: path)
        connection = try SQLiteConnection(path: path, mode: .readWrite(create: true))
        try Self.configure(connection, durability: durability)
        try Schema.migrate(connection)
        statements = try WriterStatements(connection)
        queries = try StoreQueries(connection)
        guard let storeID = try queries.storeID() else {
            throw EventStoreError(
                kind: .corrupt, operation: "open", path: path,
                message: "the store has no valid store id in its metadata")
        }
        self.storeID = storeID
        if let stored = try queries.checkpoint() {
            checkpoint = stored.checkpoint
            lastSequence = stored.lastSequence
        }
    }

    deinit { close() }

    /// Settings for a write-heavy, append-only log. WAL lets readers run while
    /// the writer commits. The WAL is copied into the main file every 4096
    /// pages (16 MiB) rather than SQLite's 4 MiB, so a fast stream checkpoints
    /// less often, and is truncated back to 64 MiB afterwards so it never stays
    /// large. Temporary b-trees stay in memory; the 16 MiB page cache holds a
    /// whole group of typical size, so appends do not spill to the WAL early.
    private static func configure(_ connection: SQLiteConnection, durability: Durability) throws(EventStoreError) {
        try connection.execute("PRAGMA busy_timeout = 5000", operation: "configure")
        // Refuse a foreign SQLite file before changing its journal mode.
        try Schema.check(connection, allowEmpty: true)
        let mode = try connection.text("PRAGMA journal_mode = WAL", operation: "enable WAL")
        guard mode?.lowercased() == "wal" else {
            throw EventStoreError(
                kind: .other, operation: "enable WAL", path: connection.path,
                message:
                    "SQLite kept journal mode '\(mode ?? "?")' (the file system may not support WAL's shared memory)")
        }
        try connection.execute(
            """
            PRAGMA synchronous = \(durability.pragmaValue);
            PRAGMA temp_store = MEMORY;
            PRAGMA cache_size = -16384;
            PRAGMA wal_autocheckpoint = 4096;
            PRAGMA journal_size_limit = 67108864;
            """,
            operation: "configure")
    }

    // MARK: Group commit

    /// Starts a group: one write transaction that takes the store's write lock now,
    /// so that appends and the commit cannot wait for it later.
    public func beginGroup() throws(EventStoreError) {
        guard connection.isOpen else { throw .misuse("the writer is closed", operation: "begin group", path: path) }
        guard group == nil else { throw .misuse("a group is already open", operation: "begin group", path: path) }
        let beganAt = WallClock.unixMicroseconds()
        try statements.begin.run("begin group")
        group = OpenGroup(beganAtMicros: beganAt)
    }

    /// Appends one event to the open group and returns its sequence.
    ///
    /// Events are gathered into a block (EventBlock.swift) that is written
    /// once it is full or the group commits, so a disk error may come from a
    /// later append or from `commitGroup`; either way the group is rolled back.
    ///
    /// - Parameters:
    ///   - commitLSN: the commit LSN of the event's transaction.
    ///   - ordinal: the event's position within its transaction, from 0.
    ///   - body: the encoded event; read during the call only, not kept.
    @discardableResult
    public func append(commitLSN: LSN, ordinal: Int32, body: UnsafeRawBufferPointer) throws(EventStoreError) -> Int64 {
        guard let open = group else { throw .misuse("append needs an open group", operation: "append", path: path) }
        let sequence = lastSequence + open.eventCount + 1
        block.add(commitLSN: commitLSN, ordinal: ordinal, body: body)
        group!.eventCount += 1
        group!.bodyBytes += Int64(body.count)
        if commitLSN > open.maxCommitLSN { group!.maxCommitLSN = commitLSN }
        if commitLSN < open.minCommitLSN { group!.minCommitLSN = commitLSN }
        if block.isFull {
            do {
                try storeBlock(
                    statements.insertBlock, lastSequence: sequence, operation: "append events up to \(sequence)")
            } catch {
                abandonGroup()
                throw error.withSpaceNeeded(forGroupBytes: open.bodyBytes + Int64(body.count))
            }
        }
        return sequence
    }

    /// Writes the events gathered so far as a block, so that what follows
    /// (a streamed transaction's moved blocks) comes after them.
    func flushBlock(operation: String) throws(EventStoreError) {
        guard let open = group, !block.isEmpty else { return }
        try storeBlock(statements.insertBlock, lastSequence: lastSequence + open.eventCount, operation: operation)
    }

    /// Counts `count` events of `bodyBytes` and commit LSN `commitLSN`
    /// stored in the open group by other means than `append`; returns the
    /// sequence of the last of them.
    func appended(count: Int64, bodyBytes: Int64, commitLSN: LSN) -> Int64 {
        group!.eventCount += count
        group!.bodyBytes += bodyBytes
        if commitLSN > group!.maxCommitLSN { group!.maxCommitLSN = commitLSN }
        if commitLSN < group!.minCommitLSN { group!.minCommitLSN = commitLSN }
        return lastSequence + group!.eventCount
    }

    /// Writes the block being built as the row whose last event is
    /// `lastSequence`, through `statement` (`insertBlock`, or `updateBlock`
    /// for the block retention cuts through), and empties the builder.
    func storeBlock(_ statement: SQLiteStatement, lastSequence: Int64, operation: String) throws(EventStoreError) {
        statement.bind(lastSequence, at: 1)
        statement.bind(lastSequence - Int64(block.count) + 1, at: 2)
        try run(statement, withFrameOf: &block, parametersFrom: 3, operation: operation)
    }

    /// Binds the frame `builder` holds to `statement`'s codec, raw_bytes and
    /// frame parameters (`first`, `first + 1`, `first + 2`), compressed when
    /// LZ4 makes it smaller, runs the statement and empties the builder.
    func run(
        _ statement: SQLiteStatement, withFrameOf builder: inout EventBlockBuilder, parametersFrom first: Int32,
        operation: String
    ) throws(EventStoreError) {
        try builder.withFrame { (frame) throws(EventStoreError) in
            statement.bind(Int64(frame.count), at: first + 1)
            guard let packed = BlockCodec.compress(frame, into: &compressedBlock) else {
                statement.bind(BlockCodec.raw.rawValue, at: first)
                statement.bindNoCopy(frame, at: first + 2)
                try statement.run(operation)
                return
            }
            statement.bind(BlockCodec.lz4.rawValue, at: first)
            // withUnsafeBytes rethrows untyped errors; carry the typed one out in a Result.
            try compressedBlock.withUnsafeBytes { bytes in
                Result { () throws(EventStoreError) in
                    statement.bindNoCopy(UnsafeRawBufferPointer(rebasing: bytes[..<packed]), at: first + 2)
                    try statement.run(operation)
                }
            }.get()
        }
    }

    /// Appends one event to the open group and returns its sequence.
    @discardableResult
    public func append(commitLSN: LSN, ordinal: Int32, body: [UInt8]) throws(EventStoreError) -> Int64 {
        // withUnsafeBytes rethrows untyped errors; carry the typed one out in a Result.
        try body.withUnsafeBytes { bytes in
            Result { () throws(EventStoreError) in try append(commitLSN: commitLSN, ordinal: ordinal, body: bytes) }
        }.get()
    }

    /// Appends one event to the open group and returns its sequence.
    @discardableResult
    public func append(commitLSN: LSN, ordinal: Int32, body: ArraySlice<UInt8>) throws(EventStoreError) -> Int64 {
        // withUnsafeBytes rethrows untyped errors; carry the typed one out in a Result.
        try body.withUnsafeBytes { bytes in
            Result { () throws(EventStoreError) in try append(commitLSN: commitLSN, ordinal: ordinal, body: bytes) }
        }.get()
    }

    /// Writes `checkpoint` and commits the group: when this returns, the group's
    /// events and the checkpoint are durable together (or, with `.normal`
    /// durability, survive a process crash).
    ///
    /// The checkpoint must cover every event appended (its `lastCommitLSN` at or
    /// beyond their commit LSNs), keep `flushLSN` at or beyond `lastCommitLSN`,
    /// and not move either backwards; otherwise the group is rolled back and
    /// `.invalidCheckpoint` thrown. If COMMIT itself fails, reopen the store
    /// before going on: the file, not this object, says what is durable.
    @discardableResult
    public func commitGroup(checkpoint: Checkpoint) throws(EventStoreError) -> GroupReceipt {
        let operation = "commit group"
        guard let open = group else {
            throw .misuse("commitGroup needs an open group", operation: operation, path: path)
        }
        var violation = checkpoint.violation(replacing: self.checkpoint)
        if violation == nil, open.eventCount > 0, checkpoint.lastCommitLSN < open.maxCommitLSN {
            violation =
                "last commit LSN \(checkpoint.lastCommitLSN) does not cover the group's events up to \(open.maxCommitLSN)"
        }
        if let violation {
            abandonGroup()
            throw EventStoreError(kind: .invalidCheckpoint, operation: operation, path: path, message: violation)
        }
        let newLastSequence = lastSequence + open.eventCount
        let committedAt = WallClock.unixMicroseconds()
        do {
            if !block.isEmpty {
                try storeBlock(statements.insertBlock, lastSequence: newLastSequence, operation: operation)
            }
            try writeAllStaged()
            if open.eventCount > 0 {
                let insert = statements.insertGroup
                insert.bind(newLastSequence, at: 1)
                insert.bind(lastSequence + 1, at: 2)
                insert.bind(open.eventCount, at: 3)
                insert.bind(open.bodyBytes, at: 4)
                insert.bind(open.minCommitLSN.storedValue, at: 5)
                insert.bind(open.maxCommitLSN.storedValue, at: 6)
                insert.bind(open.beganAtMicros, at: 7)
                insert.bind(committedAt, at: 8)
                try insert.run(operation)
            }
            try writeCheckpoint(checkpoint, lastSequence: newLastSequence, at: committedAt, operation: operation)
            try statements.commit.run(operation)
        } catch {
            abandonGroup()
            reloadPosition()
            throw error.withSpaceNeeded(forGroupBytes: open.bodyBytes)
        }
        let receipt = GroupReceipt(
            firstSequence: lastSequence + 1, lastSequence: newLastSequence,
            eventCount: open.eventCount, bodyBytes: open.bodyBytes,
            beganAtMicros: open.beganAtMicros, committedAtMicros: committedAt,
            durableAtMicros: WallClock.unixMicroseconds())
        group = nil
        lastSequence = newLastSequence
        self.checkpoint = checkpoint
        return receipt
    }

    /// Discards the open group: none of its events are stored and the
    /// checkpoint stays where it was. Does nothing when no group is open.
    public func rollbackGroup() {
        abandonGroup()
    }

    /// Advances the checkpoint without events (an idle stream, DESIGN §4
    /// invariant 4), in a transaction of its own. Not allowed while a group is
    /// open: a group carries its checkpoint in `commitGroup`.
    public func saveCheckpoint(_ checkpoint: Checkpoint) throws(EventStoreError) {
        let operation = "save checkpoint"
        guard connection.isOpen, group == nil else {
            throw .misuse(
                connection.isOpen ? "a group is open; commit it with its checkpoint" : "the writer is closed",
                operation: operation, path: path)
        }
        if checkpoint == self.checkpoint { return }
        if let violation = checkpoint.violation(replacing: self.checkpoint) {
            throw EventStoreError(kind: .invalidCheckpoint, operation: operation, path: path, message: violation)
        }
        try writeCheckpoint(
            checkpoint, lastSequence: lastSequence, at: WallClock.unixMicroseconds(), operation: operation)
        self.checkpoint = checkpoint
    }

    private func writeCheckpoint(
        _ checkpoint: Checkpoint, lastSequence: Int64, at micros: Int64, operation: String
    ) throws(EventStoreError) {
        let upsert = statements.upsertCheckpoint
        upsert.bind(checkpoint.lastCommitLSN.storedValue, at: 1)
        upsert.bind(checkpoint.flushLSN.storedValue, at: 2)
        upsert.bind(lastSequence, at: 3)
        upsert.bind(micros, at: 4)
        try upsert.run(operation)
    }

    /// Takes the checkpoint and last sequence from the file again after a
    /// failed COMMIT: the file, not this object, says what is durable, and a
    /// pipeline that retries (a full disk, a busy lock) goes on from there.
    private func reloadPosition() {
        guard let stored = try? queries.checkpoint() else { return }
        checkpoint = stored.checkpoint
        lastSequence = stored.lastSequence
    }

    /// Ends the group without storing it. SQLite may already have rolled back
    /// (it does after some I/O errors); ROLLBACK is only sent when needed.
    private func abandonGroup() {
        guard group != nil else { return }
        group = nil
        block.removeAll()
        staging.removeAll()
        if !connection.isAutocommit { try? statements.rollback.run("roll back group") }
    }

    // MARK: Closing

    /// Rolls back an open group and closes the file. Idempotent; later calls
    /// throw `.misuse`.
    public func close() {
        abandonGroup()
        statements.finalize()
        queries.finalize()
        connection.close()
        lock.release()
    }
}
