// The writer's prepared statements, compiled once when the store opens and
// reused for every group, so the hot path never parses SQL.

final class WriterStatements {
    let begin: SQLiteStatement
    let commit: SQLiteStatement
    let rollback: SQLiteStatement
    let insertBlock: SQLiteStatement
    let updateBlock: SQLiteStatement
    let countBlockEvents: SQLiteStatement
    let selectBlockAfter: SQLiteStatement
    let deleteBlocks: SQLiteStatement
    let insertGroup: SQLiteStatement
    let upsertCheckpoint: SQLiteStatement
    let upsertMetadata: SQLiteStatement
    let deleteMetadata: SQLiteStatement
    let deleteEvents: SQLiteStatement
    let deleteGroups: SQLiteStatement
    let selectNewlyLostConsumers: SQLiteStatement
    let markConsumersLost: SQLiteStatement
    let insertStagedBlock: SQLiteStatement
    let selectStagedBlocks: SQLiteStatement
    let updateStagedBlock: SQLiteStatement
    let deleteStagedBlock: SQLiteStatement
    let deleteStagedBlocksOfTransaction: SQLiteStatement
    let deleteAllStagedBlocks: SQLiteStatement
    let deleteStagedTransaction: SQLiteStatement
    let deleteStagedSubtransaction: SQLiteStatement
    let deleteAllStaged: SQLiteStatement
    let insertStagedEvents: SQLiteStatement
    let selectStagedEvents: SQLiteStatement
    let updateStagedEvents: SQLiteStatement
    let deleteStagedEventsBlock: SQLiteStatement
    let deleteStagedEventsOfTransaction: SQLiteStatement
    let deleteAllStagedEvents: SQLiteStatement
    let insertLoadChunk: SQLiteStatement
    let updateLoadChunk: SQLiteStatement

    init(_ connection: SQLiteConnection) throws(EventStoreError) {
        // IMMEDIATE takes the write lock at BEGIN, so a conflict shows up there
        // and never half way through a group.
        begin = try connection.prepare("BEGIN IMMEDIATE")
        commit = try connection.prepare("COMMIT")
        rollback = try connection.prepare("ROLLBACK")
        // insertBlock and updateBlock take the same parameters in the same order.
        insertBlock = try connection.prepare(
            "INSERT INTO event_blocks (last_seq, first_seq, codec, raw_bytes, frame) VALUES (?1, ?2, ?3, ?4, ?5)")
        updateBlock = try connection.prepare(
            "UPDATE event_blocks SET first_seq = ?2, codec = ?3, raw_bytes = ?4, frame = ?5 WHERE last_seq = ?1")
        countBlockEvents = try connection.prepare(
            "SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM event_blocks WHERE last_seq <= ?1")
        selectBlockAfter = try connection.prepare(
            """
            SELECT first_seq, last_seq, codec, raw_bytes, frame FROM event_blocks
            WHERE last_seq > ?1 ORDER BY last_seq LIMIT 1
            """)
        deleteBlocks = try connection.prepare("DELETE FROM event_blocks WHERE last_seq <= ?1")
        insertGroup = try connection.prepare(
            """
            INSERT INTO groups (
                last_seq, first_seq, event_count, body_bytes, min_commit_lsn, max_commit_lsn, began_at_us, committed_at_us)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            """)
        upsertCheckpoint = try connection.prepare(
            """
            INSERT INTO checkpoint (id, last_commit_lsn, flush_lsn, last_seq, updated_at_us)
            VALUES (1, ?1, ?2, ?3, ?4)
            ON CONFLICT (id) DO UPDATE SET
                last_commit_lsn = excluded.last_commit_lsn, flush_lsn = excluded.flush_lsn,
                last_seq = excluded.last_seq, updated_at_us = excluded.updated_at_us
            """)
        upsertMetadata = try connection.prepare(
            "INSERT INTO metadata (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        deleteMetadata = try connection.prepare("DELETE FROM metadata WHERE key = ?1")
        deleteEvents = try connection.prepare("DELETE FROM events WHERE seq <= ?1")
        deleteGroups = try connection.prepare("DELETE FROM groups WHERE last_seq <= ?1")
        selectNewlyLostConsumers = try connection.prepare(
            "SELECT name FROM consumers WHERE acked_seq < ?1 AND lost_through IS NULL ORDER BY name")
        markConsumersLost = try connection.prepare(
            """
            UPDATE consumers SET lost_through = max(coalesce(lost_through, 0), ?1), updated_at_us = ?2
            WHERE acked_seq < ?1
            """)
        // insertStagedBlock and updateStagedBlock take codec, raw_bytes and frame as ?2, ?3, ?4.
        insertStagedBlock = try connection.prepare(
            "INSERT INTO staged_blocks (xid, codec, raw_bytes, frame) VALUES (?1, ?2, ?3, ?4)")
        selectStagedBlocks = try connection.prepare(
            """
            SELECT position, codec, raw_bytes, frame FROM staged_blocks
            WHERE xid = ?1 AND position > ?2 ORDER BY position LIMIT ?3
            """)
        updateStagedBlock = try connection.prepare(
            "UPDATE staged_blocks SET codec = ?2, raw_bytes = ?3, frame = ?4 WHERE position = ?1")
        deleteStagedBlock = try connection.prepare("DELETE FROM staged_blocks WHERE position = ?1")
        deleteStagedBlocksOfTransaction = try connection.prepare("DELETE FROM staged_blocks WHERE xid = ?1")
        deleteAllStagedBlocks = try connection.prepare("DELETE FROM staged_blocks")
        deleteStagedTransaction = try connection.prepare("DELETE FROM staged_changes WHERE xid = ?1")
        deleteStagedSubtransaction = try connection.prepare("DELETE FROM staged_changes WHERE xid = ?1 AND subxid = ?2")
        deleteAllStaged = try connection.prepare("DELETE FROM staged_changes")
        // insertStagedEvents and updateStagedEvents take event_count, body_bytes, codec, raw_bytes and frame as ?2 to ?6.
        insertStagedEvents = try connection.prepare(
            """
            INSERT INTO staged_events (xid, event_count, body_bytes, codec, raw_bytes, frame)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """)
        selectStagedEvents = try connection.prepare(
            """
            SELECT position, codec, raw_bytes, frame, event_count, body_bytes FROM staged_events
            WHERE xid = ?1 AND position > ?2 ORDER BY position LIMIT ?3
            """)
        updateStagedEvents = try connection.prepare(
            """
            UPDATE staged_events SET event_count = ?2, body_bytes = ?3, codec = ?4, raw_bytes = ?5, frame = ?6
            WHERE position = ?1
            """)
        deleteStagedEventsBlock = try connection.prepare("DELETE FROM staged_events WHERE position = ?1")
        deleteStagedEventsOfTransaction = try connection.prepare("DELETE FROM staged_events WHERE xid = ?1")
        deleteAllStagedEvents = try connection.prepare("DELETE FROM staged_events")
        insertLoadChunk = try connection.prepare(
            """
            INSERT INTO load_chunks (
                chunk, schema_name, table_name, relfilenode, first_page, end_page, next_page, rows, done)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            """)
        updateLoadChunk = try connection.prepare(
            "UPDATE load_chunks SET next_page = ?2, rows = rows + ?3, done = ?4 WHERE chunk = ?1")
    }

    func finalize() {
        for statement in [
            begin, commit, rollback, insertBlock, updateBlock, countBlockEvents, selectBlockAfter, deleteBlocks,
            insertGroup, upsertCheckpoint,
            upsertMetadata, deleteMetadata, deleteEvents, deleteGroups, selectNewlyLostConsumers, markConsumersLost,
            insertStagedBlock, selectStagedBlocks, updateStagedBlock, deleteStagedBlock,
            deleteStagedBlocksOfTransaction,
            deleteAllStagedBlocks, deleteStagedTransaction, deleteStagedSubtransaction, deleteAllStaged,
            insertStagedEvents, selectStagedEvents, updateStagedEvents, deleteStagedEventsBlock,
            deleteStagedEventsOfTransaction, deleteAllStagedEvents,
            insertLoadChunk, updateLoadChunk,
        ] {
            statement.finalize()
        }
    }
}
