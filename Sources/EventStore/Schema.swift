// The store's tables and how a file is brought up to the current schema.
//
// The schema version lives in `PRAGMA user_version`; `migrations[n]` takes a
// store from version n to n + 1, and all the steps a store needs run in one
// transaction, so a store is never half migrated. Later changes are added as
// new steps, never by editing old ones. `PRAGMA application_id` marks the
// file as a popsink event store, so a pipeline pointed at some other SQLite
// file refuses it instead of adding tables to it.

enum Schema {
    /// "pops" in ASCII.
    static let applicationID: Int64 = 0x706F_7073

    static var latestVersion: Int64 { Int64(migrations.count) }

    /// `migrations[n]` migrates version n to n + 1.
    static let migrations: [String] = [
        // 1: events, the checkpoint, group commit records, metadata.
        """
        -- One row per change event. seq is the rowid: gap-free, in commit order,
        -- assigned by the writer from checkpoint.last_seq so it is never reused
        -- after retention deletes old rows. body is last so the fixed-size
        -- columns sit at the front of each record. No index on
        -- (commit_lsn, ordinal): it cost a fifth of the append rate, and the
        -- rare lookup by event id goes through `groups` instead.
        CREATE TABLE events (
            seq        INTEGER PRIMARY KEY,
            commit_lsn INTEGER NOT NULL,
            ordinal    INTEGER NOT NULL,
            body       BLOB NOT NULL
        );

        -- The durable position, one row, written in the same transaction as the
        -- events it covers. last_seq is the highest sequence ever assigned.
        CREATE TABLE checkpoint (
            id              INTEGER PRIMARY KEY CHECK (id = 1),
            last_commit_lsn INTEGER NOT NULL,
            flush_lsn       INTEGER NOT NULL,
            last_seq        INTEGER NOT NULL,
            updated_at_us   INTEGER NOT NULL
        );

        -- One row per committed group that stored events: its sequence range,
        -- the range of commit LSNs in it, size and timing. Retention by age and
        -- size reads it instead of the events, and so does finding an event by
        -- id (the groups whose LSN range holds it, then their rows).
        -- committed_at_us (when COMMIT was issued) is where commit-to-durable
        -- latency is measured from.
        CREATE TABLE groups (
            last_seq        INTEGER PRIMARY KEY,
            first_seq       INTEGER NOT NULL,
            event_count     INTEGER NOT NULL,
            body_bytes      INTEGER NOT NULL,
            min_commit_lsn  INTEGER NOT NULL,
            max_commit_lsn  INTEGER NOT NULL,
            began_at_us     INTEGER NOT NULL,
            committed_at_us INTEGER NOT NULL
        );
        CREATE INDEX groups_by_time ON groups (committed_at_us);
        CREATE INDEX groups_by_commit_lsn ON groups (max_commit_lsn, min_commit_lsn, first_seq);

        -- Small facts about the pipeline's slot and source (system id, timeline,
        -- slot name, consistent point ...).
        CREATE TABLE metadata (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
        """
        -- Changes of streamed transactions that have not committed yet
        -- (pgoutput protocol 2, streaming on), in arrival order. They become
        -- events when the transaction commits and are dropped when it, or the
        -- subtransaction that made them, aborts. Postgres streams an unfinished
        -- transaction again from its start after a reconnect, so whatever is
        -- here when a session starts is discarded.
        CREATE TABLE staged_changes (
            position INTEGER PRIMARY KEY,
            xid      INTEGER NOT NULL,
            subxid   INTEGER NOT NULL,
            message  BLOB NOT NULL
        );
        CREATE INDEX staged_changes_by_xid ON staged_changes (xid, position);
        """,
        """
        -- The snapshot's plan and progress: one row per chunk (a range of
        -- heap pages of one table). next_page moves in the same transaction as
        -- the events of the pages before it, so after a crash a chunk resumes
        -- exactly where its stored rows end. end_page NULL: up to the table's
        -- end. relfilenode tells a resumed load that the table was rewritten
        -- (VACUUM FULL, CLUSTER, ALTER TABLE) and its pages no longer line up.
        CREATE TABLE load_chunks (
            chunk       INTEGER PRIMARY KEY,
            schema_name TEXT NOT NULL,
            table_name  TEXT NOT NULL,
            relfilenode INTEGER NOT NULL,
            first_page  INTEGER NOT NULL,
            end_page    INTEGER,
            next_page   INTEGER NOT NULL,
            rows        INTEGER NOT NULL,
            done        INTEGER NOT NULL
        );
        """,
        """
        -- The store's identity: random, made once, never changed. Cursors carry
        -- it so that one made for a store that was since deleted and recreated
        -- is refused. Stores created before this step get theirs now.
        INSERT INTO metadata (key, value) VALUES ('store_id', lower(hex(randomblob(16))));

        -- Named consumers and the position each has acknowledged: retention
        -- keeps every event after acked_seq, up to the hard size cap. When the
        -- cap deletes events a consumer had not acknowledged, lost_through is
        -- the highest such sequence (NULL: nothing lost) and stays set until
        -- the consumer is deleted, so the loss is never silent.
        CREATE TABLE consumers (
            name          TEXT PRIMARY KEY,
            acked_seq     INTEGER NOT NULL,
            created_at_us INTEGER NOT NULL,
            updated_at_us INTEGER NOT NULL,
            lost_through  INTEGER
        ) WITHOUT ROWID;
        """,
        """
        -- Every version of each captured table's column list (the schema
        -- registry). A version is written in the same group as the first event
        -- decoded with it, so the registry and the events never disagree after
        -- a crash. columns and change are JSON written by the pipeline: the
        -- store keeps them as they are. lsn: where the version took effect
        -- (the first change decoded with it, or the snapshot's consistent
        -- point); commit_lsn: the transaction that announced it.
        CREATE TABLE table_schemas (
            schema_name  TEXT NOT NULL,
            table_name   TEXT NOT NULL,
            version      INTEGER NOT NULL,
            relation_oid INTEGER NOT NULL,
            lsn          INTEGER NOT NULL,
            commit_lsn   INTEGER NOT NULL,
            columns      TEXT NOT NULL,
            change       TEXT,
            PRIMARY KEY (schema_name, table_name, version)
        ) WITHOUT ROWID;
        """,
        """
        -- Events in blocks: one row per run of consecutive events of one group,
        -- up to about 64 KiB of frame (EventBlock.swift), so SQLite pays its
        -- per-row cost once per block rather than once per event. codec 0: the
        -- frame as it is; 1: LZ4, raw_bytes long once decompressed. A block
        -- never spans two groups, so the checkpoint committed with a group
        -- covers whole blocks. Retention deletes whole blocks and rewrites the
        -- one it cuts through. Rows of `events` that older versions wrote stay
        -- there, all below the first block, until retention deletes them.
        CREATE TABLE event_blocks (
            last_seq  INTEGER PRIMARY KEY,
            first_seq INTEGER NOT NULL,
            codec     INTEGER NOT NULL,
            raw_bytes INTEGER NOT NULL,
            frame     BLOB NOT NULL
        );

        -- Streamed changes in blocks too: one row per run of one transaction's
        -- messages, a frame whose index holds each message's subtransaction id
        -- where an event block holds the commit LSN. Rows of staged_changes
        -- an older version left are discarded when the next session starts,
        -- as everything staged always was.
        CREATE TABLE staged_blocks (
            position  INTEGER PRIMARY KEY,
            xid       INTEGER NOT NULL,
            codec     INTEGER NOT NULL,
            raw_bytes INTEGER NOT NULL,
            frame     BLOB NOT NULL
        );
        CREATE INDEX staged_blocks_by_xid ON staged_blocks (xid, position);
        """,
        """
        -- Backfill requests and cancels accepted by the API and not yet carried
        -- out by the pipeline (EventStoreBackfillRequests). The API writes them
        -- through a connection of its own, fsynced, before it answers; the
        -- pipeline deletes a row in the group that records its effect, so a
        -- request is never lost nor carried out twice. body is the request as
        -- JSON written by the pipeline code: the store keeps it as it is.
        CREATE TABLE backfill_requests (
            id              TEXT PRIMARY KEY,
            body            TEXT NOT NULL,
            cancel          INTEGER NOT NULL DEFAULT 0,
            requested_at_us INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
        """
        -- Streamed transactions' events, encoded on arrival as templates
        -- (EventTemplate.swift): one row per block of one transaction, the
        -- template frame with the subtransaction id in each index entry.
        -- event_count and body_bytes (the templates' bytes) let Stream Commit
        -- move the blocks into event_blocks without decompressing them; there
        -- they get codec 2 (template frame as it is) or 3 (LZ4), behind a
        -- header that completes them. Older versions cannot read those codecs,
        -- hence the new schema version. IF NOT EXISTS: a store taken back to
        -- an older version by hand (the tests do) may still have the table.
        CREATE TABLE IF NOT EXISTS staged_events (
            position    INTEGER PRIMARY KEY,
            xid         INTEGER NOT NULL,
            event_count INTEGER NOT NULL,
            body_bytes  INTEGER NOT NULL,
            codec       INTEGER NOT NULL,
            raw_bytes   INTEGER NOT NULL,
            frame       BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS staged_events_by_xid ON staged_events (xid, position);
        """,
        """
        -- Block frames in rows of their own, so a streamed transaction's
        -- staged templates become its events at Stream Commit by reference:
        -- the commit inserts one small event_blocks row per staged block,
        -- pointing at the frame, and copies no frame (docs/STORE.md). codec
        -- and raw_bytes describe the frame as in event_blocks.
        CREATE TABLE block_frames (
            id        INTEGER PRIMARY KEY,
            codec     INTEGER NOT NULL,
            raw_bytes INTEGER NOT NULL,
            frame     BLOB NOT NULL
        );

        -- frame_id NULL: the block's frame is in its own frame column. Else
        -- frame holds only the template header and the frame is that row of
        -- block_frames, which goes when the block goes (retention deletes or
        -- rewrites it), so no frame outlives every reference to it.
        ALTER TABLE event_blocks ADD COLUMN frame_id INTEGER;
        CREATE TRIGGER event_blocks_free_frame AFTER DELETE ON event_blocks
        WHEN old.frame_id IS NOT NULL
        BEGIN DELETE FROM block_frames WHERE id = old.frame_id; END;
        CREATE TRIGGER event_blocks_replace_frame AFTER UPDATE OF frame_id ON event_blocks
        WHEN old.frame_id IS NOT NULL AND new.frame_id IS NOT old.frame_id
        BEGIN DELETE FROM block_frames WHERE id = old.frame_id; END;

        -- What streamed transactions staged, one table for both kinds (0: the
        -- raw messages, 1: event templates): a row per block, its frame the
        -- row of block_frames with the same id, so the staged order is the
        -- order of frame_id. Stream Commit hands a template block's frame to
        -- event_blocks and deletes only this row; an abort deletes both.
        CREATE TABLE staged (
            frame_id    INTEGER PRIMARY KEY,
            xid         INTEGER NOT NULL,
            kind        INTEGER NOT NULL,
            event_count INTEGER NOT NULL,
            body_bytes  INTEGER NOT NULL
        );
        CREATE INDEX staged_by_transaction ON staged (xid, kind, frame_id);

        -- Rows staged by older versions belong to transactions Postgres
        -- streams again from their start when the next session begins (the
        -- session start always discarded them), so they are dropped here.
        DROP TABLE IF EXISTS staged_changes;
        DROP TABLE IF EXISTS staged_blocks;
        DROP TABLE IF EXISTS staged_events;
        """,
    ]

    /// Brings a writable store to `latestVersion`, creating the tables in a new
    /// file. Safe against another connection migrating at the same time (the
    /// writer and a consumer registration may both open a new store): the
    /// version is read again once the write lock is held.
    static func migrate(_ connection: SQLiteConnection) throws(EventStoreError) {
        guard try check(connection, allowEmpty: true) < latestVersion else { return }
        // Every step in one transaction: a reader that opens the file meanwhile
        // (the API, right after a pipeline starts) sees it empty or as it was,
        // never at a version whose tables are not there yet.
        let operation = "migrate schema to version \(latestVersion)"
        try connection.execute("BEGIN IMMEDIATE", operation: operation)
        do {
            // Another writer may have migrated it between the check and the lock.
            var version = try connection.integer("PRAGMA user_version", operation: operation)
            while version < latestVersion {
                try connection.execute(migrations[Int(version)], operation: "migrate schema to version \(version + 1)")
                version += 1
            }
            try connection.execute(
                "PRAGMA application_id = \(applicationID); PRAGMA user_version = \(version)", operation: operation)
            try connection.execute("COMMIT", operation: operation)
        } catch {
            try? connection.execute("ROLLBACK", operation: operation)
            throw error
        }
    }

    /// Returns the file's schema version after making sure it is a store this
    /// code can use. `allowEmpty` accepts a brand-new, empty file (version 0).
    @discardableResult
    static func check(_ connection: SQLiteConnection, allowEmpty: Bool) throws(EventStoreError) -> Int64 {
        let operation = "check schema"
        let applicationID = try connection.integer("PRAGMA application_id", operation: operation)
        let version = try connection.integer("PRAGMA user_version", operation: operation)
        if applicationID == 0 && version == 0 {
            let objects = try connection.integer("SELECT count(*) FROM sqlite_schema", operation: operation)
            if objects == 0 && allowEmpty { return 0 }
            throw EventStoreError(
                kind: .notAnEventStore, operation: operation, path: connection.path,
                message: objects == 0
                    ? "the file is empty: no pipeline has initialized this store yet"
                    : "the file is a SQLite database without the popsink event store marker")
        }
        guard applicationID == Self.applicationID else {
            throw EventStoreError(
                kind: .notAnEventStore, operation: operation, path: connection.path,
                message: "the file's application_id is \(applicationID), not popsink's \(Self.applicationID)")
        }
        guard version <= latestVersion else {
            throw EventStoreError(
                kind: .newerSchema, operation: operation, path: connection.path,
                message: "the store has schema version \(version); this build knows up to \(latestVersion)")
        }
        return version
    }
}
